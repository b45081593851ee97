using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Tern.Control.DirtyRate;
using Tern.Control.Host;
using Tern.Control.Qmp;
using Tern.Control.Tests.Support;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;

namespace Tern.Control.Tests.DirtyLimit;

/// <summary>
/// set-vcpu-dirty-limit, cancel-vcpu-dirty-limit and query-vcpu-dirty-limit over a real QMP socket, on a VM host
/// running a simulated guest with two vCPUs: vCPU 0 rewrites a 16 MiB working set (far above a 1 MB/s limit), vCPU 1
/// only computes. The simulated guest's tracking knows which vCPU wrote, as the dirty ring does.
/// </summary>
public sealed class VcpuDirtyLimitOnSimTests : IDisposable
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly VmHost host = new(MachineBuilder.Boot(GuestWorkload.Parse("seq:ws=16M;compute"), 64 << 20, 2, Sim), Sim);

    public void Dispose()
    {
        foreach (var server in servers) server.DisposeAsync().AsTask().Wait();
        host.Dispose();
    }

    [Fact]
    public async Task A_limit_throttles_only_the_vcpu_above_it_and_cancel_lifts_the_throttle_and_the_tracking_at_once()
    {
        host.Start();
        var machine = host.Machine!;
        await using var c = await Connect();
        Assert.Equal(0, QmpAssert.Success(await c.CommandAsync("""{"execute": "query-vcpu-dirty-limit"}""")).GetArrayLength());
        Assert.False(machine.DirtyTracker.IsTracking);

        QmpAssert.Success(await c.CommandAsync("""{"execute": "set-vcpu-dirty-limit", "arguments": {"cpu-index": 0, "dirty-rate": 1}}"""));
        Assert.True(machine.DirtyTracker.IsTracking, "the limit measures each vCPU's rate with dirty tracking");
        Assert.True(SpinWait.SpinUntil(() => machine.GetThrottle(0) > 0, Patience), "vCPU 0, far above its limit, was never throttled");
        var limit = Assert.Single(QmpAssert.Success(await c.CommandAsync("""{"execute": "query-vcpu-dirty-limit"}""")).EnumerateArray());
        Assert.Equal(0, limit.GetProperty("cpu-index").GetInt32());
        Assert.Equal(1UL, limit.GetProperty("limit-rate").GetUInt64());
        Assert.True(limit.TryGetProperty("current-rate", out var current) && current.ValueKind == JsonValueKind.Number);
        Assert.Equal(0, machine.GetThrottle(1));

        // The limiter owns the tracker: a tracking measurement is refused, page sampling is not.
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "calc-dirty-rate", "arguments": {"calc-time": 1, "mode": "dirty-bitmap"}}"""),
            "per-vCPU dirty limits are set");

        QmpAssert.Success(await c.CommandAsync("""{"execute": "cancel-vcpu-dirty-limit", "arguments": {"cpu-index": 0}}"""));
        // At once, not at the next measurement: no throttle without a limit, no tracking without a user.
        Assert.Equal(0, machine.GetThrottle(0));
        Assert.False(machine.DirtyTracker.IsTracking, "tracking stayed on after the last limit was cancelled");
        Assert.False(host.DirtyLimiterRunning);
        Assert.Equal(0, QmpAssert.Success(await c.CommandAsync("""{"execute": "query-vcpu-dirty-limit"}""")).GetArrayLength());
        QmpAssert.Success(await c.CommandAsync("""{"execute": "calc-dirty-rate", "arguments": {"calc-time": 1, "mode": "dirty-bitmap"}}"""));
    }

    [Fact]
    public async Task Bad_arguments_are_refused_naming_the_problem_and_change_nothing()
    {
        host.Start();
        await using var c = await Connect();
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "set-vcpu-dirty-limit", "arguments": {"dirty-rate": -5}}"""),
            "Parameter 'dirty-rate' expects uint64");
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "set-vcpu-dirty-limit", "arguments": {"dirty-rate": 0}}"""),
            "dirty-rate must be at least 1 MB/s");
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "set-vcpu-dirty-limit", "arguments": {"cpu-index": 2, "dirty-rate": 10}}"""),
            "incorrect cpu-index 2: this VM has vCPUs 0 to 1");
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "set-vcpu-dirty-limit", "arguments": {"cpu-index": -1, "dirty-rate": 10}}"""),
            "incorrect cpu-index -1");
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "set-vcpu-dirty-limit", "arguments": {"cpu-index": 1}}"""),
            "Parameter 'dirty-rate' is missing");
        QmpAssert.ErrorContaining(await c.CommandAsync("""{"execute": "cancel-vcpu-dirty-limit", "arguments": {"cpu-index": 7}}"""),
            "incorrect cpu-index 7");
        Assert.Equal(0, QmpAssert.Success(await c.CommandAsync("""{"execute": "query-vcpu-dirty-limit"}""")).GetArrayLength());
        Assert.False(host.Machine!.DirtyTracker.IsTracking);
        // Cancelling where nothing is limited is not an error (as in QEMU).
        QmpAssert.Success(await c.CommandAsync("""{"execute": "cancel-vcpu-dirty-limit"}"""));
    }

    [Fact]
    public void A_limit_is_refused_while_a_tracking_dirty_rate_measurement_owns_the_tracker()
    {
        host.Start();
        host.CalcDirtyRate(new DirtyRateRequest(60, null, DirtyRateMode.DirtyBitmap));
        var refused = Assert.Throws<VmControlException>(() => host.SetVcpuDirtyLimit(0, 5));
        Assert.Contains("calc-dirty-rate, mode dirty-bitmap", refused.Message);
        Assert.Empty(host.QueryVcpuDirtyLimit());
    }

    [Fact]
    public void A_migration_takes_the_tracker_over_keeps_the_throttle_and_hands_the_tracker_back_when_it_fails()
    {
        // A "destination" that accepts the connection and never answers: the migration stays in its setup.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            host.Start();
            var machine = host.Machine!;
            host.SetVcpuDirtyLimit(null, 1);
            Assert.True(SpinWait.SpinUntil(() => machine.GetThrottle(0) > 0, Patience), "vCPU 0 was never throttled");
            Assert.Equal(2, host.QueryVcpuDirtyLimit().Count);

            host.StartMigration($"tcp:127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
            using var silent = listener.AcceptTcpClient();
            Assert.False(host.DirtyLimiterRunning, "the limiter kept the tracker while a migration runs");
            Assert.True(machine.GetThrottle(0) > 0, "the limit's throttle was dropped when the migration started");

            silent.Dispose();
            Assert.True(SpinWait.SpinUntil(() => host.QueryMigrate().Status.IsFinished(), Patience), "the migration never ended");
            Assert.True(SpinWait.SpinUntil(() => host.DirtyLimiterRunning, Patience), "the limits never got the tracker back");
            Assert.True(machine.DirtyTracker.IsTracking);
            Assert.True(machine.GetThrottle(0) > 0);

            host.CancelVcpuDirtyLimit(null);
            Assert.False(machine.DirtyTracker.IsTracking);
            Assert.Equal(0, machine.GetThrottle(0));
            Assert.Equal(0, machine.GetThrottle(1));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_limit_set_during_a_migration_is_applied_from_its_syncs_and_a_cancel_lifts_the_throttle_at_once()
    {
        using var destination = new VmHost(Sim);
        host.Start();
        var machine = host.Machine!;
        // A slow link and a downtime budget no pass meets: the migration keeps syncing until it is cancelled.
        host.SetParameters(host.GetParameters() with { MaxBandwidth = 8 << 20, DowntimeLimitMs = 1 });
        // A limit set and cancelled before the migration: the limiter has run, and must not act on the migration's tracker.
        host.SetVcpuDirtyLimit(1, 50);
        host.CancelVcpuDirtyLimit(1);
        destination.StartIncoming("tcp:127.0.0.1:0");
        host.StartMigration(destination.IncomingAddress!.ToString());
        Assert.True(SpinWait.SpinUntil(() => host.QueryMigrate().Status == MigrationStatus.Active, Patience), "the migration never became active");

        host.SetVcpuDirtyLimit(0, 1);
        Assert.False(host.DirtyLimiterRunning, "the limiter took the tracker while the migration owns it");
        Assert.True(SpinWait.SpinUntil(() => machine.GetThrottle(0) > 0 || host.QueryMigrate().Status.IsFinished(), Patience));
        Assert.Equal(MigrationStatus.Active, host.QueryMigrate().Status);
        Assert.True(machine.GetThrottle(0) > 0, "the migration did not apply the limit");
        Assert.Equal(0, machine.GetThrottle(1));
        Assert.NotEqual(0UL, host.QueryVcpuDirtyLimit()[0].CurrentRate);

        host.CancelVcpuDirtyLimit(0);
        Assert.Equal(0, machine.GetThrottle(0));
        // The last limit went, but the tracker is the migration's: it stays on and the migration goes on.
        Assert.True(machine.DirtyTracker.IsTracking, "cancelling the last limit turned the migration's dirty tracking off");
        long syncs = host.QueryMigrate().Ram!.DirtySyncCount;
        Assert.True(SpinWait.SpinUntil(() => host.QueryMigrate().Ram!.DirtySyncCount > syncs + 1 || host.QueryMigrate().Status.IsFinished(), Patience));
        Assert.Equal(MigrationStatus.Active, host.QueryMigrate().Status);
        host.CancelMigration();
        Assert.True(SpinWait.SpinUntil(() => host.QueryMigrate().Status.IsFinished(), Patience));
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(host.DirtyLimiterRunning, "the limiter came back with no limit set");
        Assert.False(machine.DirtyTracker.IsTracking);
    }

    private async Task<RawQmpConnection> Connect()
    {
        var path = TestSocketPath.Create();
        var server = new QmpServer(path, host);
        server.Start();
        servers.Add(server);
        var c = await RawQmpConnection.ConnectAsync(path);
        await c.ReadMessageAsync();
        QmpAssert.Success(await c.CommandAsync("""{"execute": "qmp_capabilities"}"""));
        return c;
    }

    private readonly List<QmpServer> servers = [];
}
