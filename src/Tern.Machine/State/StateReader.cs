using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Tern.Machine.State;

/// <summary>
/// Little-endian reader for one state section. Every read is bounds-checked; running past the end or finding a
/// length that does not fit raises <see cref="StateFormatException"/> naming the section.
/// </summary>
public sealed class StateReader
{
    private readonly byte[] data;
    private int position;

    public StateReader(string section, byte[] data)
    {
        Section = section;
        this.data = data;
    }

    public string Section { get; }
    public int Remaining => data.Length - position;

    public byte ReadByte() => Take(1)[0];
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public long ReadInt64() => (long)ReadUInt64();

    public byte[] ReadBytes(int maxLength = 1 << 20)
    {
        uint length = ReadUInt32();
        if (length > maxLength) throw new StateFormatException(Section, $"a field claims {length} bytes, more than the {maxLength} allowed");
        return Take((int)length).ToArray();
    }

    public T ReadStruct<T>() where T : unmanaged
    {
        var bytes = ReadBytes();
        int expected = Marshal.SizeOf<T>();
        if (bytes.Length != expected)
            throw new StateFormatException(Section, $"{typeof(T).Name} is {expected} bytes here but the saved state has {bytes.Length}");
        return MemoryMarshal.Read<T>(bytes);
    }

    public string ReadString(int maxLength = 4096) => System.Text.Encoding.UTF8.GetString(ReadBytes(maxLength));

    /// <summary>Call when done: leftover bytes mean the writer and reader disagree about the format.</summary>
    public void EnsureConsumed()
    {
        if (Remaining != 0) throw new StateFormatException(Section, $"{Remaining} bytes left over after reading");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw new StateFormatException(Section, $"truncated: needed {count} more bytes at offset {position}, {Remaining} left");
        var span = data.AsSpan(position, count);
        position += count;
        return span;
    }
}
