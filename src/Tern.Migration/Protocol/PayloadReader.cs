using System.Buffers.Binary;
using System.Text;

namespace Tern.Migration.Protocol;

/// <summary>
/// Reads a message payload. Every read is bounds-checked: reading past the end throws a
/// <see cref="ProtocolException"/> that names the message, so a truncated or lying frame is an error, never a crash.
/// </summary>
public ref struct PayloadReader
{
    public const int MaxStringBytes = 4096;

    private readonly ReadOnlySpan<byte> data;
    private readonly MessageType message;
    private int position;

    public PayloadReader(MessageType message, ReadOnlySpan<byte> data)
    {
        this.message = message;
        this.data = data;
        position = 0;
    }

    public readonly int Remaining => data.Length - position;
    public readonly int Position => position;

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public long I64() => (long)U64();

    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    public ReadOnlySpan<byte> Rest() => Take(Remaining);

    public string Str()
    {
        int length = U16();
        if (length > MaxStringBytes) throw new ProtocolException($"{message}: a string of {length} bytes is over the {MaxStringBytes}-byte limit");
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length));
        }
        catch (DecoderFallbackException)
        {
            throw new ProtocolException($"{message}: a string is not valid UTF-8");
        }
    }

    /// <summary>Every message must be consumed exactly: trailing bytes mean the peer speaks another format.</summary>
    public readonly void End()
    {
        if (Remaining != 0) throw new ProtocolException($"{message}: {Remaining} unexpected bytes after the message");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw new ProtocolException($"{message} is truncated: needed {count} more bytes at offset {position}, {Remaining} left");
        var span = data.Slice(position, count);
        position += count;
        return span;
    }
}
