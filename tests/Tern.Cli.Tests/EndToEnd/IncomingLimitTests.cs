using System.Net.Sockets;
using System.Text.Json.Nodes;
using Tern.Machine;
using Tern.Migration.Protocol;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// `tern run --incoming ... --memory SIZE --vcpus N` accepts no bigger VM than that: the destination answers a bigger
/// Hello with an Error that names both sizes, before it builds anything. A `--memory 128M` destination once accepted a
/// Hello for 23 GiB and 64 vCPUs (the option was ignored with --incoming; only the host's memory limited it).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class IncomingLimitTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-limit-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData(23UL << 30, 1, "the source asks for 23 GiB of guest RAM, more than the 128 MiB this destination was started with")]
    [InlineData(64UL << 20, 64, "the source asks for 64 vCPUs, more than the 2 this destination was started with")]
    public async Task A_Hello_bigger_than_the_destination_was_started_with_is_refused_naming_both_sizes(ulong memory, int vcpus, string expected)
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"tcp:127.0.0.1:{port}", "--memory", "128M", "--vcpus", "2", "--serial", "none");
        await using (await destination.ConnectAsync()) { }

        using var client = new TcpClient("127.0.0.1", port) { ReceiveTimeout = 30_000 };
        var connection = new FrameConnection(client.GetStream(), "tern run --incoming");
        var hello = new PayloadWriter();
        new HelloMessage(ProtocolConstants.MinVersion, ProtocolConstants.MaxVersion, ProtocolCapabilities.Supported, Guid.NewGuid(), 1,
            new MachineDescription(MachineDescription.KvmBackend, memory, vcpus, "idle")).Write(hello);
        connection.Write(MessageType.Hello, hello);
        connection.Flush();

        var (type, payload) = connection.Read();
        Assert.True(type == MessageType.Error, $"{type}\n{destination.Output}");
        var error = ErrorMessage.Read(type, payload.Span);
        Assert.Equal(ErrorMessage.Incompatible, error.Code);
        Assert.Equal(expected, error.Text);
    }

    [Fact]
    public async Task A_source_bigger_than_the_destination_was_started_with_keeps_its_VM_and_hears_why()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"tcp:127.0.0.1:{port}", "--memory", "128M", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "256M", "--workload", "idle");
        await using var src = await source.ConnectAsync();
        await using (await destination.ConnectAsync()) { }

        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);
        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(60));

        string context = $"{info}\n--- source:\n{source.Output}\n--- destination:\n{destination.Output}";
        Assert.True(info.GetProperty("status").GetString() == "failed", context);
        Assert.Contains("the source asks for 256 MiB of guest RAM, more than the 128 MiB this destination was started with",
            info.GetProperty("error-desc").GetString()!, StringComparison.Ordinal);
        Assert.Equal("running", await TernProcess.StatusAsync(src));
    }
}
