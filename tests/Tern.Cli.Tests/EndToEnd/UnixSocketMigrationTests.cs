using System.Text.Json.Nodes;
using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// Migrations between two `tern run` processes over a unix domain socket (<c>unix:PATH</c>), as QEMU accepts it:
/// `tern run --incoming unix:PATH`, `tern migrate ... unix:PATH` with page channels, QMP migrate-incoming and
/// migrate with a unix: URI.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class UnixSocketMigrationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-e2e-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task Tern_migrate_moves_a_guest_over_a_unix_socket_with_page_channels()
    {
        string socket = Path.Combine(dir, "migrate.sock");
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"unix:{socket}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "128M", "--vcpus", "2", "--workload", "random:ws=16M,rate=50");
        await using var dst = await destination.ConnectAsync();
        await using var src = await source.ConnectAsync();
        Assert.True(File.Exists(socket), $"the destination listens at {socket}:\n{destination.Output}");

        // A generous downtime limit: this test is about the transport, and on a loaded machine the hand-over's round
        // trip can outlast the default 300 ms plus its margin (the source then rightly keeps the VM).
        var (code, output, error) = await TernRun.InvokeAsync("migrate", "--qmp", source.QmpPath, $"unix:{socket}", "--verify", "--channels", "3",
            "--downtime-limit", "2000");

        string context = $"{output}\n{error}\n--- source:\n{source.Output}\n--- destination:\n{destination.Output}";
        Assert.True(code == 0, context);
        Assert.Contains("Migration status: completed", output);
        Assert.Contains("verification: matched", output);
        var info = await src.ExecuteAsync("query-migrate", cancel: Ct);
        Assert.True(info.GetProperty("x-channels").GetInt32() == 3, $"{info}\n{context}");
        Assert.Equal("postmigrate", await TernProcess.StatusAsync(src));
        Assert.Equal("running", await TernProcess.StatusAsync(dst));
        // Once the guest has arrived the destination stops listening, and its socket file goes with it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (File.Exists(socket) && DateTime.UtcNow < deadline) await Task.Delay(100, Ct);
        Assert.False(File.Exists(socket), $"the destination removed {socket} when it stopped listening:\n{destination.Output}");
    }

    [Fact]
    public async Task Qmp_migrate_incoming_and_migrate_take_a_unix_uri_and_a_stale_socket_file_is_replaced()
    {
        string socket = Path.Combine(dir, "stale.sock");
        MakeStaleSocketFile(socket);
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", "defer", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "64M", "--workload", "idle");
        await using var dst = await destination.ConnectAsync();
        await using var src = await source.ConnectAsync();

        var empty = await Assert.ThrowsAsync<QmpErrorException>(() => dst.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = "unix:" }, Ct));
        Assert.Contains("has no socket path", empty.Description);
        var tooLong = await Assert.ThrowsAsync<QmpErrorException>(() =>
            dst.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = "unix:/" + new string('x', 120) }, Ct));
        Assert.Contains("at most 107 bytes", tooLong.Description);
        var unknown = await Assert.ThrowsAsync<QmpErrorException>(() => src.ExecuteAsync("migrate", new JsonObject { ["uri"] = "fd:3" }, Ct));
        Assert.Contains("unsupported migration transport 'fd'", unknown.Description);

        await dst.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"unix:{socket}" }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"unix:{socket}" }, Ct);
        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(60));
        Assert.True(info.GetProperty("status").GetString() == "completed", $"{info}\n{source.Output}\n{destination.Output}");
        Assert.Equal("running", await TernProcess.StatusAsync(dst));
    }

    [Fact]
    public async Task A_destination_that_quits_while_waiting_removes_its_socket_file()
    {
        string socket = Path.Combine(dir, "quit.sock");
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"unix:{socket}", "--serial", "none");
        await using (var dst = await destination.ConnectAsync())
        {
            Assert.True(File.Exists(socket));
            await dst.ExecuteAsync("quit", cancel: Ct);
        }
        Assert.Equal(0, await destination.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(socket), $"{socket} is left behind:\n{destination.Output}");
    }

    /// <summary>
    /// A socket file nobody listens on, as a killed destination leaves it. Bound elsewhere and moved into place:
    /// closing a .NET socket removes the file at the path it was bound to.
    /// </summary>
    private void MakeStaleSocketFile(string path)
    {
        string boundAt = Path.Combine(dir, "bound.sock");
        using var dead = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Unspecified);
        dead.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(boundAt));
        File.Move(boundAt, path);
    }
}
