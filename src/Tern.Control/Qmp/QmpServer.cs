using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Tern.Control.Qmp;

/// <summary>
/// Serves QMP (QEMU Machine Protocol, as of QEMU 7.2) for one VM on a unix socket, so libvirt, python's qemu.qmp, socat
/// and <c>tern info migrate</c> can drive it. Any number of clients may connect; each negotiates capabilities, then sends
/// commands, and receives the VM's events.
/// <code>
/// await using var qmp = new QmpServer("/run/tern/vm1.qmp", vm);
/// qmp.Start();
/// </code>
/// Disposing it stops accepting, flushes queued replies briefly, closes every client and removes the socket file.
/// </summary>
public sealed class QmpServer : IAsyncDisposable
{
    private const int ListenBacklog = 16;
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly IVmControl _vm;
    private readonly QmpServerOptions _options;
    private readonly QmpDispatcher _dispatcher;
    private readonly Action<string> _logWarning;
    private readonly ConcurrentDictionary<int, (QmpSession Session, Task Run)> _sessions = new();
    private readonly CancellationTokenSource _stopAccepting = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private int _nextSessionId;
    private int _disposed;

    public QmpServer(string socketPath, IVmControl vm, QmpServerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentNullException.ThrowIfNull(vm);
        _options = options ?? new QmpServerOptions();
        _options.Validate();
        SocketPath = socketPath;
        _vm = vm;
        _logWarning = _options.LogWarning ?? (message => Console.Error.WriteLine("tern: qmp: " + message));
        _dispatcher = new QmpDispatcher(new QmpCommands(vm, _options.Package), _logWarning);
    }

    public string SocketPath { get; }

    /// <summary>Clients connected right now.</summary>
    public int ClientCount => _sessions.Count;

    /// <summary>
    /// Creates the socket and starts accepting clients. A stale socket file left by a process that died is replaced;
    /// one another process still serves is not. Throws <see cref="IOException"/> saying why the socket cannot be created.
    /// </summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_listener is not null)
        {
            throw new InvalidOperationException("the QMP server is already started");
        }
        var endPoint = QmpSocketPath.EndPoint(SocketPath);
        RemoveStaleSocket(endPoint);

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(endPoint);
            listener.Listen(ListenBacklog);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"cannot create the QMP socket {SocketPath}: {e.Message}", e);
        }
        _listener = listener;
        _vm.EventRaised += OnVmEvent;
        _acceptLoop = AcceptLoopAsync(listener, _stopAccepting.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _vm.EventRaised -= OnVmEvent;
        _stopAccepting.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
        foreach (var (session, _) in _sessions.Values)
        {
            session.Close();
        }
        await Task.WhenAll(_sessions.Values.Select(s => s.Run));
        if (_listener is not null)
        {
            TryDeleteSocketFile();
        }
        _stopAccepting.Dispose();
    }

    private void RemoveStaleSocket(UnixDomainSocketEndPoint endPoint)
    {
        if (!File.Exists(SocketPath))
        {
            return;
        }
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(endPoint);
            }
            catch (SocketException)
            {
                // Nobody listens: a leftover from a process that did not clean up, as QEMU assumes too.
                File.Delete(SocketPath);
                return;
            }
        }
        throw new IOException(
            $"the QMP socket {SocketPath} is in use by another process; stop that VM or choose another --qmp path");
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // E.g. out of file descriptors: keep serving the clients we have and try again shortly.
                _logWarning($"accepting a QMP client failed: {e.Message}");
                try
                {
                    await Task.Delay(AcceptRetryDelay, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }

            var id = Interlocked.Increment(ref _nextSessionId);
            var session = new QmpSession(id, client, _dispatcher, _options, _logWarning);
            var run = new TaskCompletionSource();
            _sessions[id] = (session, run.Task);
            _ = ServeAsync(session, run);
        }
    }

    private async Task ServeAsync(QmpSession session, TaskCompletionSource done)
    {
        await Task.Yield();   // do not serve the client on the accept loop
        try
        {
            await session.RunAsync();
        }
        finally
        {
            _sessions.TryRemove(session.Id, out _);
            done.SetResult();
        }
    }

    // Raised on whatever thread the VM reports from: serialize once, offer to every client, never wait.
    private void OnVmEvent(object? sender, VmEvent e)
    {
        byte[] message;
        try
        {
            message = QmpWire.Event(e, DateTimeOffset.UtcNow);
        }
        catch (Exception ex)
        {
            _logWarning($"cannot send event {e.Name} to QMP clients: {ex.Message}");
            return;
        }
        foreach (var (session, _) in _sessions.Values)
        {
            session.OfferEvent(message);
        }
    }

    private void TryDeleteSocketFile()
    {
        try
        {
            File.Delete(SocketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logWarning($"cannot remove the QMP socket {SocketPath}: {e.Message}");
        }
    }
}
