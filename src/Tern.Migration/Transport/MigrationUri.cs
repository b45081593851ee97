using System.Globalization;
using System.Net;
using System.Text;

namespace Tern.Migration.Transport;

/// <summary>The kinds of migration address Tern speaks.</summary>
public enum MigrationScheme
{
    /// <summary><c>tcp:HOST:PORT</c></summary>
    Tcp,
    /// <summary><c>unix:PATH</c>: a unix domain socket on this host.</summary>
    Unix,
}

/// <summary>
/// A migration address as QEMU writes it: <c>tcp:HOST:PORT</c> (HOST may be an IPv4 address, a name, or an IPv6
/// address in brackets; 0 or an empty host listens on every address) or <c>unix:PATH</c> (a unix domain socket; the
/// page channels connect to the same path).
/// </summary>
public sealed record MigrationUri
{
    /// <summary>
    /// The longest unix socket path in bytes: <c>sun_path</c> holds 108 bytes including the terminating NUL. A longer
    /// path cannot be bound or connected to (the kernel would not cut it; .NET refuses it).
    /// </summary>
    public const int MaxSocketPathBytes = 107;

    private const string Expected = "tcp:HOST:PORT or unix:PATH";

    /// <summary>A TCP address.</summary>
    public MigrationUri(string host, int port)
    {
        Scheme = MigrationScheme.Tcp;
        Host = host;
        Port = port;
    }

    private MigrationUri(string socketPath)
    {
        Scheme = MigrationScheme.Unix;
        SocketPath = socketPath;
    }

    /// <summary>A unix socket address (the path is checked as <see cref="TryParse"/> does).</summary>
    public static MigrationUri UnixSocket(string path) => Parse("unix:" + path);

    public MigrationScheme Scheme { get; }

    /// <summary>The TCP host ("" for a unix socket).</summary>
    public string Host { get; init; } = "";

    /// <summary>The TCP port (0 for a unix socket).</summary>
    public int Port { get; init; }

    /// <summary>The unix socket's path ("" for TCP).</summary>
    public string SocketPath { get; } = "";

    public static MigrationUri Parse(string uri)
    {
        if (!TryParse(uri, out var parsed, out var error)) throw new FormatException(error);
        return parsed!;
    }

    public static bool TryParse(string? uri, out MigrationUri? parsed, out string error)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(uri)) { error = $"empty migration URI (expected {Expected})"; return false; }
        if (uri.StartsWith("tcp:", StringComparison.Ordinal)) return TryParseTcp(uri, out parsed, out error);
        if (uri.StartsWith("unix:", StringComparison.Ordinal)) return TryParseUnix(uri, out parsed, out error);
        var scheme = uri.Contains(':') ? uri[..uri.IndexOf(':')] : uri;
        error = $"unsupported migration transport '{scheme}' in '{uri}': Tern speaks {Expected}";
        return false;
    }

    private static bool TryParseTcp(string uri, out MigrationUri? parsed, out string error)
    {
        parsed = null;
        var rest = uri[4..];
        int colon = rest.LastIndexOf(':');
        if (colon < 0) { error = $"'{uri}' has no port (expected tcp:HOST:PORT)"; return false; }
        var host = rest[..colon].Trim('[', ']');
        var portText = rest[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = $"'{portText}' in '{uri}' is not a port number (0-65535)";
            return false;
        }
        parsed = new MigrationUri(host.Length == 0 ? "0" : host, port);
        error = "";
        return true;
    }

    private static bool TryParseUnix(string uri, out MigrationUri? parsed, out string error)
    {
        parsed = null;
        var path = uri[5..];
        if (path.Length == 0) { error = $"'{uri}' has no socket path (expected unix:PATH, e.g. unix:/run/tern/migrate.sock)"; return false; }
        if (path.Contains('\0')) { error = $"the socket path in '{uri}' contains a NUL character"; return false; }
        int bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxSocketPathBytes)
        {
            error = $"the socket path in '{uri}' is {bytes} bytes; a unix socket path is at most {MaxSocketPathBytes} bytes " +
                    "(sun_path holds 108 with its terminating NUL): use a shorter path";
            return false;
        }
        parsed = new MigrationUri(path);
        error = "";
        return true;
    }

    /// <summary>The transport that reaches this address.</summary>
    public IMigrationTransport CreateTransport() => Scheme switch
    {
        MigrationScheme.Unix => new UnixSocketTransport(SocketPath),
        _ => new TcpTransport(this),
    };

    /// <summary>The address to listen on (TCP): "0" and "" mean all IPv4 addresses.</summary>
    public IPAddress ListenAddress => Host is "0" or "0.0.0.0" ? IPAddress.Any : IPAddress.TryParse(Host, out var a) ? a : Dns.GetHostAddresses(Host)[0];

    public override string ToString() => Scheme switch
    {
        MigrationScheme.Unix => $"unix:{SocketPath}",
        _ => Host.Contains(':') ? $"tcp:[{Host}]:{Port}" : $"tcp:{Host}:{Port}",
    };
}
