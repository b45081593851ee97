using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Tern.Control.Qmp;

/// <summary>
/// A QMP client over a unix socket, for Tern's VMs and for QEMU alike. <see cref="ConnectAsync"/> reads the greeting and
/// negotiates capabilities; then commands may be issued concurrently: each carries its own <c>id</c> and its reply is
/// matched by it. Events arrive on <see cref="Events"/>.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    /// <summary>How long a server may take to greet before we conclude it is not a QMP server.</summary>
    public static readonly TimeSpan GreetingTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Replies can be large (query-commands); this only guards against a runaway peer.</summary>
    private const int MaxMessageBytes = 64 << 20;

    /// <summary>Events kept for a reader that is behind; the oldest are dropped beyond this, so an unread client cannot grow.</summary>
    private const int EventQueueCapacity = 4096;

    private readonly string _socketPath;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<JsonElement> _greeting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<QmpEvent> _events = Channel.CreateBounded<QmpEvent>(new BoundedChannelOptions(EventQueueCapacity)
    {
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.DropOldest,
    });
    private readonly CancellationTokenSource _stopReading = new();
    private readonly Task _readLoop;
    private volatile Exception? _closedBecause;
    private long _nextId;
    private int _disposed;

    private QmpClient(string socketPath, Socket socket)
    {
        _socketPath = socketPath;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>The greeting's <c>QMP</c> member: <c>{"version": ..., "capabilities": [...]}</c>.</summary>
    public JsonElement Greeting { get; private set; }

    /// <summary>Events from the server, in order. Completes when the connection closes.</summary>
    public ChannelReader<QmpEvent> Events => _events.Reader;

    /// <summary>
    /// Connects to the QMP socket at <paramref name="socketPath"/>, reads the greeting and enters command mode.
    /// Throws <see cref="QmpConnectionException"/> with an operator-facing message when that fails.
    /// </summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, CancellationToken cancel = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(QmpSocketPath.EndPoint(socketPath), cancel);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            socket.Dispose();
            throw new QmpConnectionException(
                $"cannot connect to QMP socket {socketPath}: {DescribeConnectFailure(socketPath, e)} " +
                $"(is the VM running with --qmp unix:{socketPath}?)", e);
        }

        var client = new QmpClient(socketPath, socket);
        try
        {
            try
            {
                client.Greeting = await client._greeting.Task.WaitAsync(GreetingTimeout, cancel);
            }
            catch (TimeoutException)
            {
                throw new QmpConnectionException(
                    $"{socketPath} accepted the connection but sent no QMP greeting within {GreetingTimeout.TotalSeconds:0} s; is it a QMP socket?");
            }
            await client.ExecuteAsync("qmp_capabilities", cancel: cancel);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="command"/> and returns its <c>return</c> value. Throws <see cref="QmpErrorException"/> on an
    /// error reply and <see cref="QmpConnectionException"/> if the connection is lost before the reply arrives.
    /// </summary>
    public async Task<JsonElement> ExecuteAsync(string command, JsonObject? arguments = null, CancellationToken cancel = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var id = "tern-" + Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        if (_closedBecause is { } closed)
        {
            _pending.TryRemove(id, out _);
            throw Lost(closed);
        }

        var request = new JsonObject { ["execute"] = command };
        if (arguments is not null)
        {
            request["arguments"] = arguments.DeepClone();
        }
        request["id"] = id;
        byte[] bytes = [.. JsonSerializer.SerializeToUtf8Bytes(request), (byte)'\n'];

        await _writeLock.WaitAsync(cancel);
        try
        {
            await _stream.WriteAsync(bytes, cancel);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _pending.TryRemove(id, out _);
            throw Lost(e);
        }
        finally
        {
            _writeLock.Release();
        }

        JsonElement message;
        using (cancel.Register(() =>
               {
                   if (_pending.TryRemove(id, out var r))
                   {
                       r.TrySetCanceled(cancel);
                   }
               }))
        {
            message = await reply.Task;
        }

        if (message.TryGetProperty("error", out var error))
        {
            throw new QmpErrorException(command, ReadString(error, "class"), ReadString(error, "desc"));
        }
        return message.TryGetProperty("return", out var result) ? result : default;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stopReading.Cancel();
        _socket.Dispose();
        await _readLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stream.Dispose();
        _stopReading.Dispose();
        _writeLock.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var splitter = new QmpMessageSplitter(MaxMessageBytes);
        var buffer = new byte[16 * 1024];
        var frames = new List<QmpFrame>();
        Exception reason = new QmpConnectionException($"the VM closed the QMP connection {_socketPath}");
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(buffer, _stopReading.Token);
                if (n == 0)
                {
                    break;
                }
                frames.Clear();
                splitter.Feed(buffer.AsSpan(0, n), frames);
                foreach (var frame in frames)
                {
                    if (frame.Json is { } json)
                    {
                        Dispatch(json);
                    }
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            reason = e;
        }
        catch (JsonException e)
        {
            reason = new QmpConnectionException($"{_socketPath} sent something that is not QMP: {e.Message}", e);
        }
        Close(reason);
    }

    private void Dispatch(byte[] json)
    {
        JsonElement message;
        using (var document = JsonDocument.Parse(json))
        {
            message = document.RootElement.Clone();
        }
        if (message.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (message.TryGetProperty("QMP", out var greeting))
        {
            _greeting.TrySetResult(greeting);
        }
        else if (message.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String)
        {
            JsonElement? data = message.TryGetProperty("data", out var d) ? d : null;
            _events.Writer.TryWrite(new QmpEvent(name.GetString()!, data, ReadTimestamp(message)));
        }
        else if (message.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                 && _pending.TryRemove(id.GetString()!, out var reply))
        {
            reply.TrySetResult(message);
        }
        // Anything else (a reply to nobody) is ignored, as QMP clients do.
    }

    private void Close(Exception reason)
    {
        _closedBecause = reason;
        var lost = Lost(reason);
        _greeting.TrySetException(lost);
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var reply))
            {
                reply.TrySetException(lost);
            }
        }
        _events.Writer.TryComplete();
    }

    private QmpConnectionException Lost(Exception reason) =>
        reason as QmpConnectionException
        ?? new QmpConnectionException($"lost the QMP connection {_socketPath}: {reason.Message}", reason);

    // .NET reports a missing socket file as "Cannot assign requested address"; say what it means instead.
    private static string DescribeConnectFailure(string path, Exception e) =>
        e is not SocketException se ? e.Message
        : !File.Exists(path) ? "no such file"
        : se.SocketErrorCode == SocketError.ConnectionRefused ? "nothing is listening on it"
        : se.Message;

    private static DateTimeOffset ReadTimestamp(JsonElement message)
    {
        if (message.TryGetProperty("timestamp", out var t)
            && t.TryGetProperty("seconds", out var s) && s.TryGetInt64(out var seconds)
            && t.TryGetProperty("microseconds", out var us) && us.TryGetInt64(out var micros)
            && seconds is >= 0 and < 253_402_300_800)
        {
            return DateTimeOffset.UnixEpoch.AddSeconds(seconds).AddTicks(micros * TimeSpan.TicksPerMicrosecond);
        }
        return DateTimeOffset.UtcNow;
    }

    private static string ReadString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : "";
}
