namespace Tern.Control.Qmp;

/// <summary>
/// The <c>--qmp</c> address syntax: <c>unix:PATH</c> as QEMU writes it (<c>-qmp unix:PATH,server=on,wait=off</c>), or a bare
/// PATH for convenience. QEMU's socket options after a comma are accepted and ignored, since Tern always serves and
/// never waits, so a command line copied from QEMU works.
/// </summary>
public static class QmpAddress
{
    /// <summary>Returns the socket path, or throws <see cref="FormatException"/> saying what is accepted.</summary>
    public static string ParseUnixPath(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var path = address.StartsWith("unix:", StringComparison.Ordinal) ? address["unix:".Length..] : address;
        var comma = path.IndexOf(',');
        if (comma >= 0 && address.StartsWith("unix:", StringComparison.Ordinal))
        {
            path = path[..comma];
        }
        if (path.Length == 0)
        {
            throw new FormatException($"'{address}' names no socket: write --qmp unix:PATH, e.g. --qmp unix:/run/tern/vm1.qmp");
        }
        if (path.StartsWith("tcp:", StringComparison.Ordinal) || path.StartsWith("stdio", StringComparison.Ordinal)
            || path.StartsWith("fd:", StringComparison.Ordinal))
        {
            throw new FormatException($"Tern serves QMP on unix sockets only, not '{address}': write --qmp unix:PATH");
        }
        return path;
    }
}
