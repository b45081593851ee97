using System.Text.Json.Nodes;
using Tern.Control.Qmp;
using Tern.Control.Tests.Support;

namespace Tern.Control.Tests;

public sealed class SlowClientTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_client_that_never_reads_its_events_is_dropped_without_holding_up_the_VM_or_others()
    {
        const int queueCapacity = 16;
        const int events = 2000;
        await using var host = QmpTestHost.Start(new QmpServerOptions { ClientQueueCapacity = queueCapacity });
        await using var sleeper = await host.ConnectNegotiatedAsync();
        await using var reader = await host.ConnectNegotiatedAsync();
        var padding = new string('p', 1024);   // fills the sleeper's socket buffer sooner

        for (var i = 0; i < events; i++)
        {
            // Raise returns without waiting for anyone: the VM is never blocked by a client.
            host.Vm.Raise(VmEvent.WithData("X_TEST", new JsonObject { ["n"] = i, ["padding"] = padding }));
            var e = await reader.ReadMessageAsync();
            Assert.Equal(i, e.GetProperty("data").GetProperty("n").GetInt32());
        }

        // The sleeper fell more than the queue behind: it was disconnected, and said so in the log.
        var delivered = await sleeper.ReadToEndAsync();
        Assert.InRange(delivered, 1, (long)events * 1100 - 1);
        Assert.Contains(host.Warnings, w => w.Contains("has not read its last 16 messages"));
        while (host.Server.ClientCount != 1) await Task.Delay(5, Ct);
        QmpAssert.Success(await reader.CommandAsync("""{"execute": "query-status"}"""));
    }
}
