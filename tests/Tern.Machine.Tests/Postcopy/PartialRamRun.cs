using Tern.Guest;
using Tern.Machine.Postcopy;
using Tern.Machine.Tests.Kvm;
using Tern.Memory;
using Tern.Memory.Postcopy;

namespace Tern.Machine.Tests.Postcopy;

/// <summary>
/// A guest booted, run and captured (state and a copy of all of RAM), then a second machine of the same backend
/// started from that state with only some of the RAM in place, the missing-page service serving the rest from the
/// copy. Disposal stops the second machine in the safe order (<see cref="PostcopyLaunch.Shutdown"/>).
/// </summary>
internal sealed class PartialRamRun : IDisposable
{
    public const ulong Memory = 64 << 20;
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private PartialRamRun(WorkloadModel model, int vcpus, byte[] image, byte[] state, ulong[] capturedCounters,
        IVirtualMachine destination, ReceivedPages received, LocalPageSource pages, MissingPageService service)
    {
        Model = model;
        Vcpus = vcpus;
        Image = image;
        CapturedCounters = capturedCounters;
        Destination = destination;
        Received = received;
        Pages = pages;
        Service = service;
        State = state;
    }

    public WorkloadModel Model { get; }
    public int Vcpus { get; }
    public byte[] Image { get; }
    public byte[] State { get; }
    public ulong[] CapturedCounters { get; }
    public IVirtualMachine Destination { get; }
    public ReceivedPages Received { get; }
    public LocalPageSource Pages { get; }
    public MissingPageService Service { get; }
    public GuestRam Ram => PostcopyLaunch.RamOf(Destination);

    /// <summary>
    /// Boots <paramref name="workload"/> on <paramref name="backend"/>, runs it, captures it, and builds the second
    /// machine with the pages <paramref name="present"/> picks already in RAM (not yet resumed: see <see cref="Resume"/>).
    /// </summary>
    /// <param name="serveRequests">False for a source that never answers: requested pages never come.</param>
    public static PartialRamRun Capture(MachineBackend backend, string workload, int vcpus, Func<PageIndex, bool> present,
        TimeSpan requestDelay = default, bool serveRequests = true)
    {
        var spec = WorkloadSpec.Parse(workload);
        var model = new WorkloadModel(GuestLayout.Compute(spec, Memory, vcpus));
        var host = new MachineHostOptions { Backend = backend };
        byte[] image, state;
        MachineDescription description;
        using (var source = MachineBuilder.Boot(spec, Memory, vcpus, host))
        {
            source.Resume();
            MachineWait.Until(() => Enumerable.Range(0, vcpus).All(v => source.Heartbeats.Count(v) > 50), Patience, "heartbeats from every vCPU of the first machine");
            source.Pause();
            Assert.Null(source.Fault);
            state = source.SaveState();
            image = source.Memory.GetSpan(GuestAddress.Zero, (int)Memory).ToArray();
            description = source.Description;
        }
        var counters = model.ReadCounters(image);
        Assert.All(counters, c => Assert.True(c > 0, "the first machine made progress"));

        var destination = MachineBuilder.CreateIncoming(description, host);
        var ram = PostcopyLaunch.RamOf(destination);
        var received = new ReceivedPages(ram.PageCount);
        for (ulong p = 0; p < ram.PageCount; p++)
        {
            var page = new PageIndex(p);
            if (!present(page)) continue;
            var bytes = image.AsSpan((int)page.Address.Value, PageSize.Bytes);
            if (bytes.IndexOfAnyExcept((byte)0) >= 0) ram.WritePage(page, bytes); // zero pages stay holes, as the page applier leaves them
            received.Mark(page);
        }
        var pages = new LocalPageSource(image, requestDelay);
        var service = new MissingPageService(ram, received, pages);
        if (serveRequests) pages.ServeRequests(service);
        return new PartialRamRun(model, vcpus, image, state, counters, destination, received, pages, service);
    }

    private GcChurn? churn;

    /// <summary>
    /// Starts the service, restores the captured state and resumes the second machine; on KVM with GCs forced all
    /// along (its vCPUs fault inside KVM_RUN, where a GC does not wait for them). The simulated vCPUs are checked by
    /// their kernel-fault count instead: one that faulted under forced GCs would hang the test process, not fail it.
    /// </summary>
    public void Resume()
    {
        if (Destination is Tern.Machine.Kvm.KvmMachine) churn = new GcChurn();
        PostcopyLaunch.Resume(Destination, Service, State);
    }

    /// <summary>Pauses the second machine (and stops forcing GCs); at least one GC ran while it was on missing pages.</summary>
    public void Pause()
    {
        Destination.Pause();
        churn?.Dispose();
        Assert.True(churn is null || churn.Collections > 0, "no GC ran while the guest was on missing pages");
        if (Destination is Tern.Machine.Sim.SimMachine)
            Assert.Equal(0, Service.Counters.KernelFaults); // managed vCPU threads ask; they never fault on a missing page
    }

    /// <summary>Waits until every vCPU of the second machine has beaten <paramref name="beats"/> times.</summary>
    public void WaitForHeartbeats(long beats) =>
        MachineWait.Until(() => Enumerable.Range(0, Vcpus).All(v => Destination.Heartbeats.Count(v) > beats) || Destination.Fault is not null,
            Patience, $"{beats} heartbeats from every vCPU of the machine running on missing pages");

    /// <summary>
    /// With the second machine paused: brings in every page still missing, then checks that each vCPU went on from
    /// where it was captured and that all of RAM is exactly what the model says for the counters now in it.
    /// </summary>
    public void VerifyAfterPause()
    {
        Assert.Equal(MachineRunState.Paused, Destination.State);
        Assert.Null(Destination.Fault);
        Assert.Null(Service.Failure);
        Assert.Null(Pages.Failure);
        Pages.PushRemaining(Service, Received, pagesPerMillisecond: 1024);
        Assert.True(Pages.WaitForPush(Patience), "the remaining pages were not pushed in time");
        Assert.True(Service.IsComplete, $"{Received.Count} of {Received.PageCount} pages arrived");
        Assert.False(Service.IsServing, "RAM is still registered after every page arrived");

        var ram = Ram.GetSpan(GuestAddress.Zero, (int)Memory);
        var counters = Model.ReadCounters(ram);
        for (int v = 0; v < Vcpus; v++)
            Assert.True(counters[v] > CapturedCounters[v], $"vCPU {v} made no progress on missing pages (counter {counters[v]}, captured at {CapturedCounters[v]})");
        var report = Model.Verify(ram, counters);
        Assert.True(report.IsExact, report.ToString());
    }

    public void Dispose()
    {
        churn?.Dispose();
        PostcopyLaunch.Shutdown(Destination, Service);
        Pages.Dispose();
    }
}
