using System.Buffers.Binary;
using Tern.Memory;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;
using Tern.Migration.Xbzrle;

namespace Tern.Migration.Tests.XbzrleThreads;

/// <summary>
/// The source's page encoder writing passes over real loopback sockets (one channel writer each, as in a migration) to
/// receivers that apply every record to a copy of RAM as the destination does (XBZRLE decoded on top of the page held),
/// so after each pass the copy can be compared with the source byte for byte.
/// </summary>
internal sealed class EncodedPassRig : IDisposable
{
    private readonly List<SocketPair> pairs = [];
    private readonly List<ChannelWriter> channels = [];
    private readonly List<Thread> receivers = [];
    private readonly CancellationTokenSource cancel = new();
    private readonly byte[] destination;
    private long recordsApplied;
    private volatile Exception? receiveFailure;

    public EncodedPassRig(ulong ramBytes, int channelCount, int hostCores)
    {
        Ram = GuestRam.Create(ramBytes);
        destination = new byte[ramBytes];
        Counters = new RamCounters(ramBytes);
        Encoder = new SourcePageEncoder(Ram, Counters, hostCores);
        for (int c = 0; c < channelCount; c++)
        {
            var pair = new SocketPair();
            pairs.Add(pair);
            var sending = new FrameConnection(pair.Left.GetStream(), $"channel {c}");
            channels.Add(new ChannelWriter(c, sending, new BandwidthLimiter(0), Counters, cancel.Token, e => receiveFailure ??= e));
            var receiving = new FrameConnection(pair.Right.GetStream(), $"receiver {c}");
            var thread = new Thread(() => Receive(receiving)) { IsBackground = true, Name = $"test receiver {c}" };
            receivers.Add(thread);
            thread.Start();
        }
    }

    public GuestRam Ram { get; }
    public RamCounters Counters { get; }
    public SourcePageEncoder Encoder { get; }

    /// <summary>
    /// Encodes <paramref name="dirty"/> (ascending) as pass <paramref name="pass"/> and waits until the receivers applied
    /// all of it. <paramref name="tellSize"/>: tell the encoder the pass's size, as the engine does (a small pass then
    /// stays on the migration thread); otherwise the workers take every pass.
    /// </summary>
    public void SendPass(uint pass, IReadOnlyCollection<PageIndex> dirty, ulong cacheBytes, int xbzrleThreads, bool tellSize = false)
    {
        var writer = new PassWriter(pass, channels, channels.Count);
        var settings = new EncoderSettings(pass, Xbzrle: cacheBytes > 0, cacheBytes, Compress: false, "zstd", 1, 1, xbzrleThreads);
        Encoder.BeginPass(writer, settings, null, t => new PassWriter(pass, channels, channels.Count, t + 1), cancel.Token,
            tellSize ? dirty.Count : long.MaxValue);
        foreach (var page in dirty) Encoder.Encode(page);
        Encoder.EndPass();
        long records = writer.Finish().Sum(r => (long)r);
        foreach (var c in channels) c.WaitUntilSent();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Interlocked.Read(ref recordsApplied) < records)
        {
            if (receiveFailure is { } e) throw new InvalidOperationException($"receiving pass {pass} failed: {e.Message}", e);
            Assert.True(DateTime.UtcNow < deadline, $"pass {pass}: {Interlocked.Read(ref recordsApplied)} of {records} records arrived");
            Thread.Sleep(1);
        }
        Assert.Equal(records, Interlocked.Exchange(ref recordsApplied, 0));
    }

    /// <summary>The first page where the receivers' copy differs from the source's RAM, or null.</summary>
    public long? FirstDifference()
    {
        var source = Ram.GetSpan(new GuestAddress(0), destination.Length);
        for (long p = 0; p < destination.Length / PageSize.Bytes; p++)
        {
            int offset = (int)(p * PageSize.Bytes);
            if (!source.Slice(offset, PageSize.Bytes).SequenceEqual(destination.AsSpan(offset, PageSize.Bytes))) return p;
        }
        return null;
    }

    private void Receive(FrameConnection connection)
    {
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                var (type, payload) = connection.Read();
                if (type != MessageType.Pages) throw new InvalidOperationException($"unexpected {type}");
                Apply(payload.Span);
            }
        }
        catch (Exception e) when (cancel.IsCancellationRequested || e is IOException or ObjectDisposedException)
        {
        }
        catch (Exception e)
        {
            receiveFailure ??= e;
        }
    }

    private void Apply(ReadOnlySpan<byte> payload)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        int at = 8;
        for (uint r = 0; r < count; r++)
        {
            var (page, kind) = PageRecord.Split(BinaryPrimitives.ReadUInt64LittleEndian(payload[at..]));
            at += PageRecord.HeaderSize;
            var target = destination.AsSpan((int)(page * PageSize.Bytes), PageSize.Bytes);
            switch (kind)
            {
                case PageRecordKind.Zero:
                    target.Clear();
                    break;
                case PageRecordKind.Normal:
                    payload.Slice(at, PageSize.Bytes).CopyTo(target);
                    at += PageSize.Bytes;
                    break;
                case PageRecordKind.Xbzrle:
                    int length = BinaryPrimitives.ReadUInt16LittleEndian(payload[at..]);
                    at += PageRecord.LengthSize;
                    var decoded = XbzrleDecoder.Decode(payload.Slice(at, length), target);
                    if (!decoded.IsSuccess) throw new InvalidOperationException($"page {page}: {decoded}");
                    at += length;
                    break;
                default:
                    throw new InvalidOperationException($"page {page}: unexpected record kind {kind}");
            }
        }
        Interlocked.Add(ref recordsApplied, count);
    }

    public void Dispose()
    {
        cancel.Cancel();
        Encoder.Dispose();
        foreach (var c in channels) c.Dispose();
        foreach (var p in pairs) p.Dispose();
        foreach (var t in receivers) t.Join(TimeSpan.FromSeconds(5));
        Ram.Dispose();
    }
}
