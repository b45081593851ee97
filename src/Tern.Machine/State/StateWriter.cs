using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Tern.Machine.State;

/// <summary>Little-endian writer for one state section.</summary>
public sealed class StateWriter
{
    private readonly MemoryStream stream = new();

    public void WriteByte(byte value) => stream.WriteByte(value);

    public void WriteUInt16(ushort value) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, value); stream.Write(b); }
    public void WriteUInt32(uint value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, value); stream.Write(b); }
    public void WriteUInt64(ulong value) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, value); stream.Write(b); }
    public void WriteInt64(long value) => WriteUInt64((ulong)value);

    /// <summary>A length-prefixed byte string.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUInt32((uint)bytes.Length);
        stream.Write(bytes);
    }

    /// <summary>A kernel struct, written as its raw bytes (the layout is pinned by the layout tests; x86-64 is little-endian).</summary>
    public void WriteStruct<T>(in T value) where T : unmanaged =>
        WriteBytes(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    public void WriteString(string value) => WriteBytes(System.Text.Encoding.UTF8.GetBytes(value));

    public byte[] ToArray() => stream.ToArray();
}
