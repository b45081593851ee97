using System.Threading.Channels;
using Tern.Os;

namespace Tern.Migration.Transport;

/// <summary>
/// A source and a destination in one process, over connected socket pairs: no port, no path, nothing another process
/// can reach. Real sockets underneath, so writes block on full buffers and a closed end is seen as on a network.
/// For tests and benchmarks of the engine. One listener at a time; a connect with nobody listening is refused.
/// </summary>
public sealed class InProcessTransport : IMigrationTransport
{
    private readonly object gate = new();
    private Listener? listener;

    public string Address => "in-process";

    public Task<MigrationLink> ConnectAsync(TimeSpan timeout, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        lock (gate)
        {
            if (listener is null) throw new IOException("could not connect to the in-process destination: nothing is listening");
            var (near, far) = UnixSockets.CreatePair();
            var sourceEnd = new SocketLink(near, "in-process destination");
            if (!listener.Arrivals.Writer.TryWrite(new SocketLink(far, "in-process source")))
            {
                sourceEnd.Dispose();
                far.Dispose();
                throw new IOException("could not connect to the in-process destination: it stopped listening");
            }
            return Task.FromResult<MigrationLink>(sourceEnd);
        }
    }

    public IMigrationListener Listen()
    {
        lock (gate)
        {
            if (listener is not null) throw new IOException("the in-process transport has a listener already");
            return listener = new Listener(this);
        }
    }

    public override string ToString() => Address;

    private sealed class Listener(InProcessTransport transport) : IMigrationListener
    {
        public Channel<MigrationLink> Arrivals { get; } = Channel.CreateUnbounded<MigrationLink>();

        public string Address => transport.Address;

        public async Task<MigrationLink> AcceptAsync(CancellationToken cancel)
        {
            try
            {
                return await Arrivals.Reader.ReadAsync(cancel);
            }
            catch (ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(InProcessTransport), "the in-process listener was stopped");
            }
        }

        public void Dispose()
        {
            lock (transport.gate)
            {
                if (transport.listener == this) transport.listener = null;
                Arrivals.Writer.TryComplete();
            }
            while (Arrivals.Reader.TryRead(out var unaccepted)) unaccepted.Dispose();
        }
    }
}
