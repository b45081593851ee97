using System.Net;
using System.Net.Sockets;
using Tern.Control.DirtyRate;
using Tern.Control.Host;
using Tern.Control.Tests.Support;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests.DirtyRate;

/// <summary>
/// calc-dirty-rate on a VM host running a simulated guest: the statuses through QMP, the tracking modes kept apart
/// from migrations, and a measurement ended early leaving tracking off.
/// </summary>
public sealed class DirtyRateOnSimTests : IDisposable
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };
    private readonly VmHost host = new(MachineBuilder.Boot(WorkloadSpec.Parse("seq:ws=8M,rate=4"), 64 << 20, 1, Sim), Sim);

    public void Dispose() => host.Dispose();

    [Fact]
    public async Task Query_dirty_rate_goes_from_unstarted_to_measuring_to_measured_over_QMP()
    {
        host.Start();
        var path = TestSocketPath.Create();
        await using var server = new Tern.Control.Qmp.QmpServer(path, host);
        server.Start();
        await using var c = await RawQmpConnection.ConnectAsync(path);
        await c.ReadMessageAsync();
        QmpAssert.Success(await c.CommandAsync("""{"execute": "qmp_capabilities"}"""));

        Assert.Equal("unstarted", Status(await c.CommandAsync("""{"execute": "query-dirty-rate"}""")));
        QmpAssert.Success(await c.CommandAsync("""{"execute": "calc-dirty-rate", "arguments": {"calc-time": 1}}"""));
        Assert.Equal("measuring", Status(await c.CommandAsync("""{"execute": "query-dirty-rate"}""")));
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "calc-dirty-rate", "arguments": {"calc-time": 1}}"""), "already being measured");

        var deadline = DateTime.UtcNow.AddSeconds(20);
        System.Text.Json.JsonElement info;
        while ((info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-dirty-rate"}"""))).GetProperty("status").GetString() != "measured")
        {
            Assert.True(DateTime.UtcNow < deadline, "the measurement never ended");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.True(info.GetProperty("dirty-rate").GetInt64() >= 0);
        Assert.Equal(512, info.GetProperty("sample-pages").GetInt64());
        Assert.Equal(128, info.GetProperty("x-sampled-pages").GetInt64()); // the minimum: 64 MiB has 32 at 512 per GiB
        // A new measurement may start once the last is done.
        QmpAssert.Success(await c.CommandAsync("""{"execute": "calc-dirty-rate", "arguments": {"calc-time": 1, "mode": "dirty-bitmap"}}"""));
        Assert.Equal("measuring", Status(await c.CommandAsync("""{"execute": "query-dirty-rate"}""")));
    }

    [Fact]
    public void A_tracking_mode_is_refused_while_a_migration_runs_but_page_sampling_is_not()
    {
        // A "destination" that accepts the connection and never answers: the migration stays in its setup.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            host.Start();
            host.StartMigration($"tcp:127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
            using var silent = listener.AcceptTcpClient();

            var refused = Assert.Throws<VmControlException>(() => host.CalcDirtyRate(new DirtyRateRequest(1, null, DirtyRateMode.DirtyBitmap)));
            Assert.Contains("a migration is using dirty tracking", refused.Message);
            Assert.Equal(DirtyRateStatus.Unstarted, host.QueryDirtyRate().Status);

            host.CalcDirtyRate(new DirtyRateRequest(1));
            Assert.Equal(DirtyRateStatus.Measuring, host.QueryDirtyRate().Status);
            silent.Dispose();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!host.QueryMigrate().Status.IsFinished()) Assert.True(DateTime.UtcNow < deadline, "the migration never ended");
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void A_tracking_measurement_ended_early_leaves_tracking_off_and_the_status_unstarted()
    {
        host.Start();
        var tracker = host.Machine!.DirtyTracker;
        using var meter = new DirtyRateMeter();

        meter.Begin(host.Machine, new DirtyRateRequest(60, null, DirtyRateMode.DirtyBitmap));
        Assert.True(tracker.IsTracking);
        Assert.True(meter.UsesDirtyTracking);
        meter.Cancel();

        Assert.False(tracker.IsTracking, "tracking stayed on after the measurement was cancelled");
        Assert.False(meter.UsesDirtyTracking);
        Assert.Equal(DirtyRateStatus.Unstarted, meter.Info.Status);
        Assert.Null(meter.Info.DirtyRateMib);
    }

    private static string? Status(System.Text.Json.JsonElement reply) => QmpAssert.Success(reply).GetProperty("status").GetString();
}
