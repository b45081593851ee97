using System.Reflection;
using System.Runtime.CompilerServices;
using Tern.Migration.Engine.Source;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>
/// Compiles the switchover's and the hand-over's code before the guest stops. A process usually migrates once, and
/// its first switchover compiled that code inside the stop: on KVM at load 16-28, the first migration of a process
/// stopped an idle guest for a median 18 ms, the later ones in the same process 5 ms (docs/benchmarks.md). Runs once
/// per process and side, on a thread-pool thread, while the setup and the first pass run. What cannot be compiled
/// ahead (generic code shared across instantiations) is left to its first use, as before.
/// </summary>
internal static class HandOverWarmUp
{
    private static int sourceStarted, destinationStarted;
    private static Task sourceWarm = Task.CompletedTask;

    /// <summary>The source's switchover and hand-over, and the messages it writes and reads there.</summary>
    private static readonly Type[] SourceTypes =
    [
        typeof(SwitchoverPhase), typeof(HandOverPhase), typeof(SwitchoverTimeline), typeof(HandOverState), typeof(ChannelWriter),
        typeof(CompleteMessage), typeof(ReadyMessage), typeof(ResumedMessage), typeof(PassBeginMessage), typeof(PassEndMessage),
    ];

    /// <summary>The destination's side: the session (DeviceState, Complete, Commit, Resume) and the messages.</summary>
    private static readonly Type[] DestinationTypes =
    [
        typeof(MigrationDestination), typeof(PassBarrier), typeof(CompleteMessage), typeof(ReadyMessage), typeof(ResumedMessage),
    ];

    /// <summary>The methods of the sessions and the machine that run inside the stop (the rest of those classes does not).</summary>
    private static readonly HashSet<string> StopMethods =
    [
        "Commit", "CompleteSent", "AwaitReturnPathJudged", "LiftBandwidthLimit", "StartSwitchoverDeadline", "Await", "WaitUntilAllSent",
        "RecordDowntime", "StopTracking", "Prepare", "WaitForFinalPass", "Resume", "SendResumed", "ReceiveMain", "Pause", "SaveState", "RestoreState",
    ];

    /// <summary>On the source, once the migration has begun: also the source session's methods used in the stop.</summary>
    public static void StartForSource()
    {
        if (Interlocked.Exchange(ref sourceStarted, 1) == 1) return;
        sourceWarm = Task.Run(() => Prepare([.. SourceTypes, typeof(SourceSession)]));
    }

    /// <summary>
    /// Before the pause: lets the source's warm-up finish (at most <paramref name="patience"/>), so that it neither
    /// leaves code to compile in the stop nor competes with the stop for the CPU. The guest still runs meanwhile.
    /// </summary>
    public static void WaitForSource(TimeSpan patience) => ((IAsyncResult)sourceWarm).AsyncWaitHandle.WaitOne(patience);

    /// <summary>On the destination, once its machine exists: also that machine's Resume (it runs first in the stop).</summary>
    public static void StartForDestination(Type machineType)
    {
        if (Interlocked.Exchange(ref destinationStarted, 1) == 1) return;
        _ = Task.Run(() => Prepare([.. DestinationTypes, machineType]));
    }

    private static void Prepare(Type[] types)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        foreach (var type in types)
        {
            bool whole = type != typeof(SourceSession) && type != typeof(MigrationDestination) && !type.IsAssignableTo(typeof(Tern.Machine.IVirtualMachine));
            foreach (var method in type.GetMethods(all))
            {
                if (method.IsAbstract || method.ContainsGenericParameters || (!whole && !StopMethods.Contains(method.Name))) continue;
                try
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Only a warm-up, never a reason to fail a migration: a method that cannot be compiled ahead is
                    // compiled at its first call, as without it.
                }
            }
        }
    }
}
