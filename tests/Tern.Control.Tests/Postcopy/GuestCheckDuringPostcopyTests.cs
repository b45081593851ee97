using Tern.Control.Host;
using Tern.Guest;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Control.Tests.Postcopy;

/// <summary>
/// x-check-guest reads all of guest RAM from a managed thread: on a destination whose post-copy link broke after the
/// switch (postcopy-paused), with pages still on the source, that read would block on a missing page where no GC can
/// stop it. It is refused, saying why, and the host reports the guest paused with the reason, from the moment the
/// status says postcopy-paused (the run state is set before the status changes). (Without the refusal the read blocks
/// and, at the next GC, so does every managed thread of the test process: the run hangs, which is the hazard itself.)
/// The same holds for the display's dirty-rate sampler and calc-dirty-rate.
/// </summary>
public sealed class GuestCheckDuringPostcopyTests
{
    private static readonly MachineHostOptions Sim = new() { Backend = MachineBackend.Sim };
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void X_check_guest_is_refused_while_pages_are_still_on_the_source()
    {
        using var source = new VmHost(MachineBuilder.Boot(WorkloadSpec.Parse("random:ws=32M"), 64 << 20, 2, Sim), Sim);
        source.Start();
        using var destination = new VmHost(Sim);
        destination.StartIncoming("tcp:127.0.0.1:0");
        using var proxy = new FaultProxy(new Tern.Migration.Transport.MigrationUri("127.0.0.1", destination.IncomingAddress!.Port),
            LinkFault.DropAtFirstOf(MessageType.PostcopyPages, MessageType.PostcopyStreamEnd));
        source.SetCapabilities(new Dictionary<MigrationCapability, bool> { [MigrationCapability.PostcopyRam] = true });
        source.SetParameters(new MigrationParameters { MaxBandwidth = 128 << 20 });
        source.StartMigration(proxy.Uri.ToString());
        source.StartPostcopy();

        Assert.True(SpinWait.SpinUntil(() => destination.QueryMigrate().Status == MigrationStatus.PostcopyPaused, Patience),
            $"destination {destination.QueryMigrate().Status}, source {source.QueryMigrate().Status} ({source.QueryMigrate().ErrorDesc})");
        // Read at once: a host that set its run state after the status changed would still say running here.
        Assert.Equal(RunState.Paused, destination.RunState);
        var info = destination.QueryMigrate();
        Assert.True(info.Postcopy is { MissingPages: > 0 }, $"every page had arrived before the link was cut: {info.ErrorDesc}");
        // On a thread of its own: a read of a missing page would block it for good (the test then fails, not hangs).
        Exception? outcome = null;
        var check = new Thread(() =>
        {
            try { destination.CheckGuest(10); }
            catch (Exception e) { outcome = e; }
        }) { IsBackground = true };
        check.Start();
        Assert.True(check.Join(TimeSpan.FromSeconds(10)), "x-check-guest blocked on a page that is still on the source");
        var refused = Assert.IsType<VmControlException>(outcome);
        Assert.Contains("still on the source", refused.Message);
        Assert.Equal(RunState.Paused, destination.RunState);
        Assert.Contains("are only on the source", destination.Note);
        Assert.Contains("recover", Assert.Throws<VmControlException>(destination.Cont).Message);
        // x-query-guest answers without reading the counters from guest RAM (their page may be one still on the source).
        GuestStatus? status = null;
        var query = new Thread(() => status = destination.QueryGuest()) { IsBackground = true };
        query.Start();
        Assert.True(query.Join(TimeSpan.FromSeconds(10)), "x-query-guest blocked on a page that is still on the source");
        Assert.Equal("paused", status!.Status);
        Assert.Empty(status.Progress);
        // Nor does the live display's dirty-rate sampler, and calc-dirty-rate is refused: both would read pages, and a
        // stale page kept to be written over in place is in the file (the sampler took it for an arrived one).
        VmSample? sample = null;
        var display = new Thread(() => sample = destination.Sample(measureDirtyRate: true)) { IsBackground = true };
        display.Start();
        Assert.True(display.Join(TimeSpan.FromSeconds(10)), "the display's sample blocked on a page that is still on the source");
        Assert.Null(sample!.DirtyRate);
        Assert.Contains("still on the source", Assert.Throws<VmControlException>(() => destination.CalcDirtyRate(new Tern.Control.DirtyRate.DirtyRateRequest(1))).Message);

        // The source, paused too, shuts down without waiting for a resume that will not come (it waited 10 s before).
        Assert.True(SpinWait.SpinUntil(() => source.QueryMigrate().Status == MigrationStatus.PostcopyPaused, Patience), $"source {source.QueryMigrate().Status}");
        var quit = System.Diagnostics.Stopwatch.StartNew();
        source.Dispose();
        Assert.True(quit.Elapsed < TimeSpan.FromSeconds(5), $"the paused source took {quit.Elapsed.TotalSeconds:0.0} s to shut down");
    }
}
