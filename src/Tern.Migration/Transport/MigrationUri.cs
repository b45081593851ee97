using System.Globalization;
using System.Net;

namespace Tern.Migration.Transport;

/// <summary>
/// A migration address as QEMU writes it: <c>tcp:HOST:PORT</c> (HOST may be an IPv4 address, a name, or an IPv6
/// address in brackets; 0 or an empty host listens on every address).
/// </summary>
public sealed record MigrationUri(string Host, int Port)
{
    public static MigrationUri Parse(string uri)
    {
        if (!TryParse(uri, out var parsed, out var error)) throw new FormatException(error);
        return parsed!;
    }

    public static bool TryParse(string? uri, out MigrationUri? parsed, out string error)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(uri)) { error = "empty migration URI (expected tcp:HOST:PORT)"; return false; }
        if (!uri.StartsWith("tcp:", StringComparison.Ordinal))
        {
            var scheme = uri.Contains(':') ? uri[..uri.IndexOf(':')] : uri;
            error = $"unsupported migration transport '{scheme}' in '{uri}': Tern speaks tcp:HOST:PORT";
            return false;
        }
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

    /// <summary>The address to listen on: "0" and "" mean all IPv4 addresses.</summary>
    public IPAddress ListenAddress => Host is "0" or "0.0.0.0" ? IPAddress.Any : IPAddress.TryParse(Host, out var a) ? a : Dns.GetHostAddresses(Host)[0];

    public override string ToString() => Host.Contains(':') ? $"tcp:[{Host}]:{Port}" : $"tcp:{Host}:{Port}";
}
