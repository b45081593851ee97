using Tern.Memory;
using Tern.Migration.Engine.Postcopy;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// Post-copy's urgent lane on the source: a connection of its own on which the destination asks for the pages its
/// vCPUs wait for (PageRequest) and this thread answers at once (PostcopyPages), so a requested page never queues
/// behind the background stream's frames, in this process or in the kernel's socket buffers (QEMU's
/// postcopy-preempt). It is not paced by max-bandwidth: a vCPU is waiting. It only reads the paused guest's RAM.
/// </summary>
internal sealed class UrgentPageLane : IDisposable
{
    private readonly FrameConnection connection;
    private readonly IGuestMemory memory;
    private readonly PostcopyPagesLeft pages;
    private readonly RamCounters counters;
    private readonly Action<Exception> onFailure;
    private readonly PostcopySourceDigest? digest;
    private readonly Thread thread;
    private volatile bool stopping;

    /// <param name="digest">x-verify's digest, which takes each page as it is sent; null without verification.</param>
    public UrgentPageLane(FrameConnection connection, IGuestMemory memory, PostcopyPagesLeft pages, RamCounters counters, Action<Exception> onFailure,
        PostcopySourceDigest? digest)
    {
        this.digest = digest;
        this.connection = connection;
        this.memory = memory;
        this.pages = pages;
        this.counters = counters;
        this.onFailure = onFailure;
        thread = new Thread(Serve) { IsBackground = true, Name = "tern migration urgent lane" };
    }

    /// <summary>Pages sent on this lane so far.</summary>
    public long PagesSent => Interlocked.Read(ref pagesSent);
    private long pagesSent;

    public void Start() => thread.Start();

    private void Serve()
    {
        var requested = new ulong[ProtocolConstants.MaxRequestedPages];
        var payload = new PayloadWriter(PostcopyPageFrames.MaxPages * (PageSize.Bytes + 8) + 4);
        try
        {
            while (true)
            {
                var (type, frame) = connection.Read();
                if (type != MessageType.PageRequest) throw ProtocolException.Unexpected(type, "serving page requests on the urgent lane");
                int count = PageRequestMessage.Read(frame.Span, memory.PageCount, requested);
                counters.PostcopyRequest();
                for (int i = 0; i < count; i++) pages.Requested(new PageIndex(requested[i]));
                for (int first = 0; first < count; first += PostcopyPageFrames.MaxPages)
                {
                    var batch = requested.AsSpan(first, Math.Min(PostcopyPageFrames.MaxPages, count - first));
                    payload.Reset();
                    PostcopyPageFrames.Write(payload, memory, batch, digest);
                    connection.Write(MessageType.PostcopyPages, payload);
                    counters.PostcopyBytesSent(Frame.HeaderSize + payload.Length);
                    Interlocked.Add(ref pagesSent, batch.Length);
                }
                connection.Flush();
            }
        }
        catch (Exception e)
        {
            if (!stopping) onFailure(new IOException($"the urgent lane failed: {SourceSession.Describe(e)}", e));
        }
    }

    public void Dispose()
    {
        stopping = true;
        connection.Dispose();
        // The lane's own failure may break the link, which disposes the lane: never wait for itself.
        if (thread.IsAlive && Thread.CurrentThread != thread) thread.Join(TimeSpan.FromSeconds(5));
    }
}
