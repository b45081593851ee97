using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>What is found at a unix socket's path, before listening there or when removing it.</summary>
public enum SocketPathKind
{
    /// <summary>Nothing is there.</summary>
    Absent,
    /// <summary>A socket file (stale or live: only a connect can tell).</summary>
    Socket,
    /// <summary>A file that is not a socket (a regular file, directory, link...).</summary>
    NotASocket,
}

/// <summary>Unix domain socket helpers that .NET does not offer: connected pairs and the type of a path.</summary>
public static class UnixSockets
{
    /// <summary>
    /// Two connected stream sockets (<c>socketpair(AF_UNIX, SOCK_STREAM)</c>), each owned by a .NET
    /// <see cref="Socket"/>: a connection inside one process, without a port or a path.
    /// </summary>
    public static unsafe (Socket Left, Socket Right) CreatePair()
    {
        int* fds = stackalloc int[2];
        if (LibC.SocketPair(LibCConstants.AF_UNIX, LibCConstants.SOCK_STREAM | LibCConstants.SOCK_CLOEXEC, 0, fds) != 0)
            OsException.ThrowLastError("socketpair(AF_UNIX, SOCK_STREAM)");
        // Each descriptor is handed to exactly one SafeSocketHandle, which closes it.
        return (new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)), new Socket(new SafeSocketHandle(fds[1], ownsHandle: true)));
    }

    /// <summary>What is at <paramref name="path"/> (a symbolic link is not followed).</summary>
    public static unsafe SocketPathKind Inspect(string path)
    {
        byte* buffer = stackalloc byte[StatxOffsets.Size];
        if (LibC.Statx(LibCConstants.AT_FDCWD, path, LibCConstants.AT_SYMLINK_NOFOLLOW, LibCConstants.STATX_TYPE, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOENT) return SocketPathKind.Absent;
            throw new OsException($"statx({path})", errno);
        }
        int mode = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(buffer + StatxOffsets.Mode, sizeof(ushort)));
        return (mode & LibCConstants.S_IFMT) == LibCConstants.S_IFSOCK ? SocketPathKind.Socket : SocketPathKind.NotASocket;
    }
}
