using System.Net.Sockets;
using System.Text;

namespace Tern.Control.Qmp;

/// <summary>Unix socket addresses for QMP, shared by the server and the client.</summary>
internal static class QmpSocketPath
{
    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    private const int MaxPathBytes = 107;

    public static UnixDomainSocketEndPoint EndPoint(string path)
    {
        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxPathBytes)
        {
            throw new IOException(
                $"the QMP socket path {path} is {bytes} bytes long; unix sockets allow at most {MaxPathBytes}: choose a shorter path");
        }
        return new UnixDomainSocketEndPoint(path);
    }
}
