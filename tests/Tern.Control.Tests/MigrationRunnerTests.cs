using Tern.Control.Qmp;
using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

public sealed class MigrationRunnerTests
{
    private static readonly TimeSpan FastPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>Setup, three passes, then <paramref name="end"/>; each step waits until the runner has seen the last.</summary>
    internal static Func<FakeVm, Task> Script(MigrationInfo end) => async vm =>
    {
        await Task.Delay(20, Ct);
        vm.SetMigration(SampleMigrations.Active with { Ram = SampleMigrations.Active.Ram! with { DirtySyncCount = 1 } });
        for (var pass = 1; pass <= 3; pass++)
        {
            vm.StartPass(pass);
            await Task.Delay(20, Ct);
        }
        vm.SetMigration(end);
    };

    [Fact]
    public async Task Runs_to_completion_applying_the_requested_settings()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.MigrationScript = Script(SampleMigrations.Completed);
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);
        var progress = new List<MigrationProgress>();
        var request = new MigrateRequest("tcp:dest:4444")
        {
            Verify = true, Xbzrle = true, Channels = 4, DowntimeLimitMs = 100, MaxBandwidth = 1_000_000_000, TimeoutMs = 30_000,
        };

        var final = await new QmpMigrationRunner(client, FastPoll).RunAsync(request, progress.Add, Ct);

        Assert.Equal(SampleMigrations.Completed, final);
        var caps = host.Vm.GetCapabilities();
        Assert.True(caps[MigrationCapability.Verify]);
        Assert.True(caps[MigrationCapability.Xbzrle]);
        Assert.True(caps[MigrationCapability.Multifd]);
        Assert.True(caps[MigrationCapability.Events]);
        Assert.False(caps[MigrationCapability.Compress]);
        var p = host.Vm.GetParameters();
        Assert.Equal((4, 100L, 1_000_000_000UL, 30_000L), (p.MultifdChannels, p.DowntimeLimitMs, p.MaxBandwidth, p.TimeoutMs));
        Assert.Equal(MigrationStatus.Completed, progress[^1].Info.Status);
        Assert.Contains(progress, r => r.Info.Status == MigrationStatus.Active);
        Assert.Equal(3, progress[^1].Pass);   // from MIGRATION_PASS events
        var calls = host.Vm.Calls.ToList();
        Assert.True(calls.IndexOf("set-parameters") < calls.IndexOf("migrate:tcp:dest:4444"), string.Join(" ", calls));
    }

    [Fact]
    public async Task Returns_a_failed_migration_with_its_error()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.MigrationScript = Script(new MigrationInfo { Status = MigrationStatus.Failed, ErrorDesc = "connection reset by destination" });
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        var final = await new QmpMigrationRunner(client, FastPoll).RunAsync(new MigrateRequest("tcp:dest:1"), _ => { }, Ct);

        Assert.Equal(MigrationStatus.Failed, final.Status);
        Assert.Equal("connection reset by destination", final.ErrorDesc);
    }

    [Fact]
    public async Task Cancelling_sends_migrate_cancel_and_waits_for_cancelled()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);
        using var cancel = new CancellationTokenSource();
        var sawActive = false;

        host.Vm.MigrationScript = vm => { vm.SetMigration(SampleMigrations.Active); return Task.CompletedTask; };
        var final = await new QmpMigrationRunner(client, FastPoll).RunAsync(new MigrateRequest("tcp:dest:1"), p =>
        {
            if (p.Info.Status == MigrationStatus.Active && !sawActive)
            {
                sawActive = true;
                cancel.Cancel();
            }
        }, cancel.Token);

        Assert.Equal(MigrationStatus.Cancelled, final.Status);
        Assert.Single(host.Vm.Calls, c => c == "migrate_cancel");
    }

    [Fact]
    public async Task Cancelling_before_migrate_is_sent_starts_nothing()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        await Assert.ThrowsAsync<OperationCanceledException>(() =>
            new QmpMigrationRunner(client, FastPoll).RunAsync(new MigrateRequest("tcp:dest:1"), _ => { }, cancel.Token));

        Assert.DoesNotContain(host.Vm.Calls, c => c.StartsWith("migrate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_setting_stops_before_migrating()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        var e = await Assert.ThrowsAsync<QmpErrorException>(() =>
            new QmpMigrationRunner(client, FastPoll).RunAsync(new MigrateRequest("tcp:dest:1") { Channels = 0 }, _ => { }, Ct));

        Assert.Equal("multifd-channels must be between 1 and 64", e.Description);
        Assert.DoesNotContain(host.Vm.Calls, c => c.StartsWith("migrate:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_migrate_surfaces_the_VM_reason()
    {
        await using var host = QmpTestHost.Start();
        await using var client = await QmpClient.ConnectAsync(host.SocketPath, Ct);

        var e = await Assert.ThrowsAsync<QmpErrorException>(() =>
            new QmpMigrationRunner(client, FastPoll).RunAsync(new MigrateRequest("udp:dest:1"), _ => { }, Ct));

        Assert.Equal("migrate", e.Command);
        Assert.Contains("unsupported migration URI 'udp:dest:1'", e.Description);
    }
}
