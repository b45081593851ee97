using System.Diagnostics;
using Tern.Control.Host;
using Tern.Guest.Multiboot;
using Tern.Machine;
using Tern.Machine.Kvm;
using Tern.Migration.Api;

namespace Tern.Bench.Macro;

/// <summary>
/// One migration of a scenario's exported guest under Tern, as two <c>tern run</c> processes would do it, in this
/// process: the source a <see cref="VmHost"/> over a KVM machine that loaded the exported file, the destination a
/// <see cref="VmHost"/> waiting on a loopback TCP port (<c>--incoming</c>), both sampled once a second as
/// <c>tern run</c>'s display does, the migration started and followed through the host's QMP calls
/// (<c>migrate</c>, <c>query-migrate</c>). The guest's counter is read from the source's RAM; its stop is the
/// engine's own heartbeat gap (<c>x-guest-downtime</c>).
/// </summary>
public static class TernVersusRun
{
    public static VersusOutcome Migrate(VersusGuest guest, TimeSpan giveUp, Action<string>? log)
    {
        var scenario = guest.Scenario;
        var image = MultibootImage.Load(guest.Kernel, guest.Memory);
        var host = new MachineHostOptions { Backend = MachineBackend.Kvm };
        var machine = KvmMachine.Create(new KvmMachineOptions(guest.Memory, 1) { Workload = image.Workload!.ToString() });
        machine.Load(GuestBoot.ToBootImage(image));
        using var source = new VmHost(machine, host);
        using var destination = new VmHost(host);
        if (log is not null)
        {
            source.Log += text => log("    src: " + text);
            destination.Log += text => log("    dst: " + text);
        }
        destination.StartIncoming("tcp:127.0.0.1:0");
        source.Start();
        using var stopDisplay = new CancellationTokenSource();
        // Its own thread, as tern run's display has: a loop parked on the thread pool starves the engine's pool work
        // on two cores (the migration's setup then waited up to a second for the pool to grow).
        var display = new Thread(() =>
        {
            do
            {
                source.Sample();
                destination.Sample();
            }
            while (!stopDisplay.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1)));
        }) { IsBackground = true, Name = "versus display" };
        display.Start();
        try
        {
            ulong Counter() => BitConverter.ToUInt64(machine.Memory.GetSpan(guest.Counter, 8));
            guest.WaitUntilReady(Counter);
            double before = VersusGuest.WritesPerSecond(Counter);

            source.Settings.SetParameters(new MigrationParameters
            {
                MaxBandwidth = scenario.MaxBandwidth,
                DowntimeLimitMs = MigrationParameters.DefaultDowntimeLimitMs,
            });
            if (scenario.Xbzrle) source.Settings.SetCapability(MigrationCapability.Xbzrle, true);
            ulong start = Counter();
            var clock = Stopwatch.StartNew();
            log?.Invoke("bench: migrate (Tern)");
            source.StartMigration(destination.IncomingAddress!.ToString());
            MigrationInfo info;
            while (true)
            {
                info = source.QueryMigrate();
                if (info.Status.IsFinished()) break;
                if (clock.Elapsed > giveUp)
                {
                    source.CancelMigration();
                    return Failed($"given up after {giveUp.TotalSeconds:0} s ({info.Ram?.Remaining} bytes remaining)");
                }
                Thread.Sleep(20);
            }
            if (info.Status != MigrationStatus.Completed) return Failed($"Tern's migration {info.Status.ToQapi()}: {info.ErrorDesc}");
            double total = info.TotalTimeMs ?? double.NaN;
            // The source machine stays, paused where it handed the guest over: its counter is the work done during the migration.
            double done = Counter() - start;
            return new VersusOutcome(true, total, info.DowntimeMs ?? double.NaN, info.GuestDowntimeMs ?? double.NaN, before, done / (total / 1000),
                info.Ram?.Transferred ?? double.NaN, info.XbzrleCache?.CacheSize ?? 0);

            VersusOutcome Failed(string why) => new(false, double.NaN, double.NaN, double.NaN, before, double.NaN, double.NaN, 0, why);
        }
        finally
        {
            stopDisplay.Cancel();
            display.Join();
        }
    }
}
