using System.Diagnostics;
using Tern.Guest;
using Tern.Machine;
using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;

namespace Tern.Control.Host;

public sealed partial class VmHost
{
    private long lastSampleTimestamp;
    private long lastHeartbeats;
    private ulong lastProgress;
    private IVirtualMachine? sampledMachine;
    private WorkloadModel? model;
    private DirtyBitmap? sampleBitmap;

    /// <summary>
    /// Measures the guest since the previous sample: heartbeat rate, workload progress, and (when no migration owns
    /// the dirty log) the dirty rate. Measuring the dirty rate keeps dirty tracking on, which costs the guest a write
    /// fault on the first write to each page after every sample: once a second, that is cheap.
    /// </summary>
    public VmSample Sample(bool measureDirtyRate = true)
    {
        lock (gate)
        {
            var info = outgoing?.Info() ?? incoming?.Info() ?? lastIncoming ?? new MigrationInfo();
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
            if (model is not null)
            {
                progress = model.ReadCounters(m.Memory.GetSpan(GuestAddress.Zero, (int)Math.Min(m.Memory.Size, int.MaxValue)));
                ulong sum = 0;
                foreach (var c in progress) sum += c;
                progressRate = sum >= lastProgress ? (sum - lastProgress) / seconds : null;
                lastProgress = sum;
            }

            double? dirtyRate = null;
            bool migrationOwnsLog = outgoing is { } o && !o.Status.IsFinished();
            if (measureDirtyRate && !migrationOwnsLog && runState == RunState.Running)
            {
                var tracker = m.DirtyTracker;
                if (!tracker.IsTracking) tracker.Start();
                else
                {
                    sampleBitmap!.ClearAll();
                    dirtyRate = tracker.Sync(sampleBitmap).DirtyPages / seconds;
                }
            }
            return new VmSample(runState, m.Description.Workload, beats, beatRate, progress, progressRate, dirtyRate, note, info);
        }
    }

    public GuestStatus? QueryGuest()
    {
        lock (gate)
        {
            if (machine is not { } m) return null;
            if (!ReferenceEquals(m, sampledMachine)) StartSampling(m);
            var progress = model?.ReadCounters(m.Memory.GetSpan(GuestAddress.Zero, (int)Math.Min(m.Memory.Size, int.MaxValue))) ?? [];
            return new GuestStatus(m.Description.Workload, runState.ToQapi(), m.Heartbeats.TotalCount, progress);
        }
    }

    private void StartSampling(IVirtualMachine m)
    {
        sampledMachine = m;
        lastSampleTimestamp = Stopwatch.GetTimestamp();
        lastHeartbeats = m.Heartbeats.TotalCount;
        lastProgress = 0;
        sampleBitmap = new DirtyBitmap(m.Memory.PageCount);
        model = GuestWorkload.TryParse(m.Description.Workload, out var spec, out _)
            ? new WorkloadModel(GuestLayout.Compute(spec!, m.Description.MemoryBytes, m.Description.VcpuCount))
            : null;
    }
}
