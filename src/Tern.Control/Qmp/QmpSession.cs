using System.Net.Sockets;
using System.Threading.Channels;

namespace Tern.Control.Qmp;

/// <summary>
/// One client connection. A read loop feeds bytes through the <see cref="QmpMessageSplitter"/>, answers each frame in
/// order through the <see cref="QmpDispatcher"/>, and a write loop drains a bounded queue of outgoing messages (replies
/// and events) to the socket. Events are offered without waiting: a client whose queue is full is not reading, and is
/// disconnected, so neither the VM nor other clients ever wait for it.
/// </summary>
internal sealed class QmpSession
{
    private const int ReceiveBufferBytes = 16 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly QmpDispatcher _dispatcher;
    private readonly QmpServerOptions _options;
    private readonly Action<string> _logWarning;
    private readonly Channel<byte[]> _outgoing;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _abort = new();
    private volatile bool _closing;
    private int _aborted;

    public QmpSession(int id, Socket socket, QmpDispatcher dispatcher, QmpServerOptions options, Action<string> logWarning)
    {
        Id = id;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _dispatcher = dispatcher;
        _options = options;
        _logWarning = logWarning;
        _outgoing = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.ClientQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public int Id { get; }

    public QmpSessionState State { get; } = new();

    /// <summary>Serves the connection until the client leaves, the server closes it, or it is aborted; never throws.</summary>
    public async Task RunAsync()
    {
        _outgoing.Writer.TryWrite(QmpWire.Greeting(_options.Package));
        var writeLoop = Task.Run(WriteLoopAsync);
        try
        {
            await ReadLoopAsync(_stopReading.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException
                                      or ObjectDisposedException or ChannelClosedException)
        {
            // The client left, or the server is closing this connection.
        }
        catch (Exception e)
        {
            _logWarning($"QMP client {Id}: connection failed: {e}");
        }

        _closing = true;
        _outgoing.Writer.TryComplete();
        try
        {
            // Deliver what is queued (the reply to quit, a final event), but never wait on a client for long.
            await writeLoop.WaitAsync(_options.CloseFlushTimeout);
        }
        catch (TimeoutException)
        {
        }
        _abort.Cancel();
        _stream.Dispose();
        _socket.Dispose();   // also ends a write the client never drains
        await writeLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopReading.Dispose();
        _abort.Dispose();
    }

    /// <summary>Queues an event without waiting; a client that is not reading is disconnected instead.</summary>
    public void OfferEvent(byte[] message)
    {
        if (!State.CommandMode || _closing)
        {
            return;
        }
        if (!_outgoing.Writer.TryWrite(message) && !_closing)
        {
            // Called on the VM's thread: do the logging and socket teardown elsewhere.
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.AbortSlowClient(), this, preferLocal: false);
        }
    }

    /// <summary>Stops reading; what is queued is still flushed (up to the flush timeout), then the connection closes.</summary>
    public void Close()
    {
        _closing = true;
        try
        {
            _stopReading.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    private void AbortSlowClient()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }
        _logWarning($"QMP client {Id} has not read its last {_options.ClientQueueCapacity} messages; disconnecting it");
        _closing = true;
        try
        {
            _abort.Cancel();
            _stopReading.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    private async Task ReadLoopAsync(CancellationToken cancel)
    {
        var splitter = new QmpMessageSplitter(_options.MaxMessageBytes);
        var buffer = new byte[ReceiveBufferBytes];
        var frames = new List<QmpFrame>();
        while (true)
        {
            var n = await _stream.ReadAsync(buffer, cancel);
            if (n == 0)
            {
                return;
            }
            frames.Clear();
            splitter.Feed(buffer.AsSpan(0, n), frames);
            foreach (var frame in frames)
            {
                var reply = _dispatcher.Handle(frame, State);
                // Waits while the client is behind on reading: it gets no further commands served meanwhile.
                await _outgoing.Writer.WriteAsync(reply, cancel);
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var message in _outgoing.Reader.ReadAllAsync(_abort.Token))
            {
                await _stream.WriteAsync(message, _abort.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client left or is being dropped; the read loop notices too.
            _stopReading.Cancel();
        }
    }
}
