using System.Net.Sockets;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Transport;

/// <summary>
/// The unix socket transport's file on disk: a stale socket is replaced, a live one or a file that is not a socket is
/// never touched, and a destination removes its socket file when it stops listening.
/// </summary>
public sealed class UnixSocketTransportTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-unix-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string SocketPath => Path.Combine(dir, "m.sock");
    private IMigrationTransport Transport => MigrationUri.UnixSocket(SocketPath).CreateTransport();

    [Fact]
    public async Task Connecting_where_nobody_listens_says_there_is_no_socket_and_how_to_start_one()
    {
        var e = await Assert.ThrowsAsync<IOException>(() => Transport.ConnectAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Contains($"there is no socket at {SocketPath}", e.Message);
        Assert.Contains($"--incoming unix:{SocketPath}", e.Message);
    }

    [Fact]
    public async Task A_connection_carries_bytes_both_ways_and_the_listener_removes_its_socket_file()
    {
        using (var listener = Transport.Listen())
        {
            Assert.Equal($"unix:{SocketPath}", listener.Address);
            var accepting = listener.AcceptAsync(CancellationToken.None);
            using var client = await Transport.ConnectAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            using var server = await accepting;
            client.Write(new byte[] { 1, 2 }, new byte[] { 3 });
            var got = new byte[3];
            Assert.Equal(3, ReadAll(server, got));
            Assert.Equal(new byte[] { 1, 2, 3 }, got);
            Assert.True(File.Exists(SocketPath));
        }
        Assert.False(File.Exists(SocketPath), "the destination removes its own socket file when it stops listening");
    }

    [Fact]
    public async Task A_stale_socket_file_is_removed_and_listened_on()
    {
        // A socket file nobody listens on: what a destination that was killed leaves behind. (Bound elsewhere and
        // moved, because closing a socket in .NET removes the file at the path it was bound to.)
        string boundAt = Path.Combine(dir, "bound.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(boundAt));
            File.Move(boundAt, SocketPath);
        }
        Assert.True(File.Exists(SocketPath));

        using var listener = Transport.Listen();
        var accepting = listener.AcceptAsync(CancellationToken.None);
        using var client = await Transport.ConnectAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        using var server = await accepting;
    }

    [Fact]
    public void A_socket_another_process_listens_on_is_refused_and_left_alone()
    {
        using var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(SocketPath));
        live.Listen();

        var e = Assert.Throws<IOException>(() => Transport.Listen());
        Assert.Contains("another process is listening", e.Message);
        using var stillThere = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stillThere.Connect(new UnixDomainSocketEndPoint(SocketPath)); // its socket still works
    }

    [Fact]
    public void Listening_in_a_directory_that_does_not_exist_says_where_it_could_not_listen()
    {
        string path = Path.Combine(dir, "missing", "m.sock");
        var e = Assert.Throws<IOException>(() => MigrationUri.UnixSocket(path).CreateTransport().Listen());
        Assert.Contains($"cannot listen on unix:{path}", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_socket_is_refused_and_left_alone()
    {
        File.WriteAllText(SocketPath, "precious");
        var e = Assert.Throws<IOException>(() => Transport.Listen());
        Assert.Contains("is not a socket", e.Message);
        Assert.Equal("precious", File.ReadAllText(SocketPath));
    }

    private static int ReadAll(MigrationLink link, byte[] buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = link.Read(buffer.AsSpan(done));
            if (n == 0) break;
            done += n;
        }
        return done;
    }
}
