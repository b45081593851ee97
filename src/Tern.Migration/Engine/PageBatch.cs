using System.Buffers;
using System.Buffers.Binary;
using Tern.Memory;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// Builds one Pages payload: <c>pass u32 | record count u32 | records</c> (see <see cref="PageRecord"/>) in a pooled
/// buffer. When a record no longer fits, the caller sends the batch and starts another.
/// </summary>
internal sealed class PageBatch
{
    /// <summary>About 64 whole pages a frame: large enough to amortize headers, small enough to pipeline.</summary>
    public const int Capacity = 256 << 10;
    private const int HeaderSize = 8;
    private const int MaxRecord = PageRecord.HeaderSize + PageSize.Bytes;

    private byte[]? buffer;
    private int length;
    private uint records;

    public uint Pass { get; private set; }
    public uint Records => records;
    public bool IsEmpty => records == 0;

    public void Begin(uint pass)
    {
        buffer ??= ArrayPool<byte>.Shared.Rent(Capacity + MaxRecord);
        Pass = pass;
        length = HeaderSize;
        records = 0;
    }

    public bool IsFull => length + MaxRecord > Capacity;

    /// <summary>Appends a normal record and returns the 4096 bytes to fill with the page.</summary>
    public Span<byte> AppendNormal(PageIndex page)
    {
        WriteHeader(page, PageRecordKind.Normal);
        var span = buffer.AsSpan(length, PageSize.Bytes);
        length += PageSize.Bytes;
        return span;
    }

    public void AppendZero(PageIndex page) => WriteHeader(page, PageRecordKind.Zero);

    /// <summary>Appends an XBZRLE or compressed record: a u16 length and the encoded bytes.</summary>
    public void AppendEncoded(PageIndex page, PageRecordKind kind, ReadOnlySpan<byte> data)
    {
        if (data.Length is < 1 or > PageSize.Bytes) throw new ArgumentException($"an encoded page is 1 to {PageSize.Bytes} bytes, got {data.Length}", nameof(data));
        WriteHeader(page, kind);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(length), (ushort)data.Length);
        length += PageRecord.LengthSize;
        data.CopyTo(buffer.AsSpan(length));
        length += data.Length;
    }

    /// <summary>Completes the payload and hands its buffer over; the batch needs <see cref="Begin"/> again.</summary>
    public OutgoingFrame Finish()
    {
        var b = buffer!;
        BinaryPrimitives.WriteUInt32LittleEndian(b, Pass);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), records);
        buffer = null;
        return new OutgoingFrame(MessageType.Pages, b, length, Pooled: true);
    }

    private void WriteHeader(PageIndex page, PageRecordKind kind)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(length), PageRecord.Header(page.Value, kind));
        length += PageRecord.HeaderSize;
        records++;
    }
}
