using Tern.Memory;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// Puts one pass's page records on the wire: fills a batch, sends it on the next channel when full (round-robin over
/// the pass's channels), and counts records per channel for the PassEnd barrier and bytes for the cost estimate.
/// </summary>
internal sealed class PassWriter
{
    private readonly IReadOnlyList<ChannelWriter> channels;
    private readonly PageBatch batch = new();
    private readonly ulong[] records;
    private int next;

    public PassWriter(uint pass, IReadOnlyList<ChannelWriter> channels, int channelCount)
    {
        Pass = pass;
        this.channels = channels;
        records = new ulong[channelCount];
        batch.Begin(pass);
    }

    public uint Pass { get; }

    /// <summary>Records put into batches so far.</summary>
    public long RecordsWritten { get; private set; }

    /// <summary>Wire bytes of non-zero page records so far, and how many there were (for the per-page cost).</summary>
    public long NonZeroBytes { get; private set; }
    public long NonZeroPages { get; private set; }

    public void AppendZero(PageIndex page)
    {
        batch.AppendZero(page);
        Appended();
    }

    public void AppendNormal(PageIndex page, ReadOnlySpan<byte> contents)
    {
        contents.CopyTo(batch.AppendNormal(page));
        NonZeroPages++;
        NonZeroBytes += PageRecord.HeaderSize + PageSize.Bytes;
        Appended();
    }

    public void AppendEncoded(PageIndex page, PageRecordKind kind, ReadOnlySpan<byte> data)
    {
        batch.AppendEncoded(page, kind, data);
        NonZeroPages++;
        NonZeroBytes += PageRecord.HeaderSize + PageRecord.LengthSize + data.Length;
        Appended();
    }

    /// <summary>Sends what is left and returns the records each channel carried.</summary>
    public ulong[] Finish()
    {
        if (!batch.IsEmpty) SendBatch();
        return records;
    }

    private void Appended()
    {
        RecordsWritten++;
        if (batch.IsFull)
        {
            SendBatch();
            batch.Begin(Pass);
        }
    }

    private void SendBatch()
    {
        records[next] += batch.Records;
        channels[next].Send(batch.Finish());
        next = (next + 1) % records.Length;
    }
}
