using System.Diagnostics;
using Tern.Guest;
using Tern.Machine;
using Tern.Memory;
using Tern.Control.DirtyRate;
using Tern.Memory.DirtyRate;
using Tern.Migration.Api;

namespace Tern.Control.Host;

public sealed partial class VmHost
{
    private long lastSampleTimestamp;
    private long lastHeartbeats;
    private ulong lastProgress;
    private IVirtualMachine? sampledMachine;
    private WorkloadModel? model;
    private readonly PeriodicPageSampler displaySampler = new();

    /// <summary>
    /// Measures the guest since the previous sample: heartbeat rate and workload progress from the guest's own
    /// counters, and (with <paramref name="measureDirtyRate"/>) the dirty rate by page sampling: a random sample of
    /// pages hashed at each call and compared at the next. Nothing here turns dirty tracking on: tracking makes the
    /// first write to every page after each sync fault, which slowed a guest writing 512 MiB over a thousandfold.
    /// </summary>
    public VmSample Sample(bool measureDirtyRate = true)
    {
        lock (gate)
        {
            var info = outgoing?.Info() ?? (incoming is { } i ? IncomingInfo(i) : null) ?? lastIncoming ?? new MigrationInfo();
            var m = machine;
            if (m is null) return new VmSample(runState, "", 0, 0, null, null, null, note, info);
            if (!ReferenceEquals(m, sampledMachine)) StartSampling(m);

            long now = Stopwatch.GetTimestamp();
            double seconds = Math.Max(Stopwatch.GetElapsedTime(lastSampleTimestamp, now).TotalSeconds, 1e-3);
            lastSampleTimestamp = now;
            long beats = m.Heartbeats.TotalCount;
            double beatRate = (beats - lastHeartbeats) / seconds;
            lastHeartbeats = beats;

            ulong[]? progress = null;
            double? progressRate = null;
            if (model is not null && !PagesMissingHere)
            {
                progress = model.ReadCounters(m.Memory.GetSpan(GuestAddress.Zero, (int)Math.Min(m.Memory.Size, int.MaxValue)));
                ulong sum = 0;
                foreach (var c in progress) sum += c;
                progressRate = sum >= lastProgress ? (sum - lastProgress) / seconds : null;
                lastProgress = sum;
            }

            DirtyRateEstimate? dirtyRate = null;
            // Sampling reads pages through the mapping: not while some are still on the source (see PagesMissingHere;
            // a stale page kept to be written over in place is in the file, so "populated" does not mean "arrived").
            if (measureDirtyRate && !PagesMissingHere && runState is RunState.Running or RunState.Paused or RunState.FinishMigrate) dirtyRate = displaySampler.Next(m.Memory);
            else displaySampler.Reset();
            return new VmSample(runState, m.Description.Workload, beats, beatRate, progress, progressRate, dirtyRate, note, info);
        }
    }

    public GuestStatus? QueryGuest()
    {
        lock (gate)
        {
            if (machine is not { } m) return null;
            if (!ReferenceEquals(m, sampledMachine)) StartSampling(m);
            var progress = PagesMissingHere ? [] : model?.ReadCounters(m.Memory.GetSpan(GuestAddress.Zero, (int)Math.Min(m.Memory.Size, int.MaxValue))) ?? [];
            return new GuestStatus(m.Description.Workload, runState.ToQapi(), m.Heartbeats.TotalCount, progress);
        }
    }

    /// <summary>
    /// The guest arrived in post-copy and some of its pages are still on the source (the link may even be broken): a
    /// managed read of one would block in the kernel where no GC can stop it, so its counters are not read. Call with
    /// the lock held.
    /// </summary>
    private bool PagesMissingHere => arrivedFrom is { PostcopyMissingPages: > 0 };

    private void StartSampling(IVirtualMachine m)
    {
        sampledMachine = m;
        lastSampleTimestamp = Stopwatch.GetTimestamp();
        lastHeartbeats = m.Heartbeats.TotalCount;
        lastProgress = 0;
        displaySampler.Reset();
        model = GuestWorkload.TryParse(m.Description.Workload, out var spec, out _)
            ? new WorkloadModel(GuestLayout.Compute(spec!, m.Description.MemoryBytes, m.Description.VcpuCount))
            : null;
    }
}
