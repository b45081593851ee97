using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Tern.Migration.Protocol;

/// <summary>Builds a message payload, little-endian, in a reusable buffer.</summary>
public sealed class PayloadWriter
{
    private readonly ArrayBufferWriter<byte> buffer;

    public PayloadWriter(int initialCapacity = 256) => buffer = new ArrayBufferWriter<byte>(initialCapacity);

    public ReadOnlySpan<byte> WrittenSpan => buffer.WrittenSpan;

    /// <summary>The payload as memory over its array, so that a frame can be written without copying it.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => buffer.WrittenMemory;
    public int Length => buffer.WrittenCount;

    public void Reset() => buffer.ResetWrittenCount();

    public void U8(byte v) { buffer.GetSpan(1)[0] = v; buffer.Advance(1); }
    public void U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(buffer.GetSpan(2), v); buffer.Advance(2); }
    public void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(buffer.GetSpan(4), v); buffer.Advance(4); }
    public void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(8), v); buffer.Advance(8); }
    public void I64(long v) => U64((ulong)v);

    public void Bytes(ReadOnlySpan<byte> bytes) { bytes.CopyTo(buffer.GetSpan(bytes.Length)); buffer.Advance(bytes.Length); }

    /// <summary>A UTF-8 string with a u16 length.</summary>
    public void Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        if (bytes.Length > PayloadReader.MaxStringBytes) throw new ArgumentException($"string of {bytes.Length} bytes is too long for the protocol");
        U16((ushort)bytes.Length);
        Bytes(bytes);
    }

    /// <summary>Reserves room and returns it, for writers that fill data in place (page records).</summary>
    public Span<byte> Reserve(int length)
    {
        var span = buffer.GetSpan(length)[..length];
        buffer.Advance(length);
        return span;
    }
}
