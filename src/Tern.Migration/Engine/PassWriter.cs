using System.Diagnostics;
using Tern.Memory;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// Puts one pass's page records on the wire: fills a batch, sends it on the next channel when full (round-robin over
/// the pass's channels), and counts records per channel for the PassEnd barrier and bytes for the cost estimate.
/// One thread fills one writer; with several XBZRLE encoding threads each has its own, and the migration thread's
/// writer absorbs their counts at the end of the pass (<see cref="Absorb"/>).
/// </summary>
internal sealed class PassWriter
{
    private readonly IReadOnlyList<ChannelWriter> channels;
    private readonly PageBatch batch = new();
    private readonly ulong[] records;
    private int next;

    /// <param name="firstChannel">The channel the first batch goes on (writers of one pass start on different ones).</param>
    public PassWriter(uint pass, IReadOnlyList<ChannelWriter> channels, int channelCount, int firstChannel = 0)
    {
        Pass = pass;
        this.channels = channels;
        records = new ulong[channelCount];
        next = firstChannel % channelCount;
        batch.Begin(pass);
    }

    public uint Pass { get; }

    /// <summary>Records put into batches so far.</summary>
    public long RecordsWritten { get; private set; }

    /// <summary>Wire bytes of non-zero page records so far, and how many there were (for the per-page cost).</summary>
    public long NonZeroBytes { get; private set; }
    public long NonZeroPages { get; private set; }

    /// <summary>Time spent queuing batches on the channels (blocked while their queues are full), in Stopwatch ticks.</summary>
    public long SendTicks { get; private set; }

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

    /// <summary>Adds the counts of another writer of the same pass, already finished.</summary>
    public void Absorb(PassWriter other)
    {
        if (other.Pass != Pass || other.records.Length != records.Length) throw new ArgumentException("a writer of another pass or channel set", nameof(other));
        for (int c = 0; c < records.Length; c++) records[c] += other.records[c];
        RecordsWritten += other.RecordsWritten;
        NonZeroBytes += other.NonZeroBytes;
        NonZeroPages += other.NonZeroPages;
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
        long started = Stopwatch.GetTimestamp();
        channels[next].Send(batch.Finish());
        SendTicks += Stopwatch.GetTimestamp() - started;
        next = (next + 1) % records.Length;
    }
}
