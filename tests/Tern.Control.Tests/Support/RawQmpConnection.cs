using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Tern.Control.Tests.Support;

/// <summary>
/// A bare-bones QMP peer for tests: sends exactly the bytes it is given and reads the server's messages line by line
/// (the server ends every message with CRLF), so the tests see the wire, not a client library's view of it.
/// </summary>
public sealed class RawQmpConnection : IAsyncDisposable
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(15);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];
    private readonly byte[] _buffer = new byte[64 * 1024];

    private RawQmpConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawQmpConnection> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new RawQmpConnection(socket);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Sends a command and returns the next message that is not an event.</summary>
    public async Task<JsonElement> CommandAsync(string json)
    {
        await SendAsync(json + "\n");
        return await ReadReplyAsync();
    }

    /// <summary>The next message that is not an event.</summary>
    public async Task<JsonElement> ReadReplyAsync()
    {
        while (true)
        {
            var m = await ReadMessageAsync();
            if (!m.TryGetProperty("event", out _)) return m;
        }
    }

    /// <summary>The next message of any kind; fails the test if none arrives in time.</summary>
    public async Task<JsonElement> ReadMessageAsync()
    {
        var line = await ReadLineAsync() ?? throw new Xunit.Sdk.XunitException("the server closed the connection");
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }

    /// <summary>The next CRLF-terminated line, or null at end of stream.</summary>
    public async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        while (true)
        {
            var newline = _pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, newline).ToArray()).TrimEnd('\r');
                _pending.RemoveRange(0, newline + 1);
                return line;
            }
            var n = await _stream.ReadAsync(_buffer, timeout.Token);
            if (n == 0) return null;
            _pending.AddRange(_buffer.AsSpan(0, n));
        }
    }

    /// <summary>One read of whatever bytes the server sent, bypassing line splitting.</summary>
    public async Task<int> ReceiveRawAsync(byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        return await _stream.ReadAsync(buffer, timeout.Token);
    }

    /// <summary>Reads until the server closes the connection; returns how many bytes came meanwhile.</summary>
    public async Task<long> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        long total = _pending.Count;
        _pending.Clear();
        try
        {
            while (true)
            {
                var n = await _stream.ReadAsync(_buffer, timeout.Token);
                if (n == 0) return total;
                total += n;
            }
        }
        catch (IOException)
        {
            return total;   // reset by peer also means closed
        }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
