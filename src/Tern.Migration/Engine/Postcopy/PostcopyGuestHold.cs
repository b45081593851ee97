using Tern.Machine;

namespace Tern.Migration.Engine.Postcopy;

/// <summary>
/// Pauses and resumes the destination's guest while post-copy is paused, in the order they were asked for. A vCPU
/// blocked on a missing page inside KVM_RUN may not return to a pause kick until its page arrives (kvm_pvm:
/// docs/ARCHITECTURE.md), so a pause may finish only after the link is recovered: each step runs after the one before
/// it on a task chain, and the caller waits for a pause only as long as it chooses. The guest is never resumed before
/// the pause it follows has finished, and is never run on a page that did not arrive (a blocked vCPU just waits).
/// </summary>
internal sealed class PostcopyGuestHold(IVirtualMachine machine)
{
    private readonly object gate = new();
    private Task chain = Task.CompletedTask;

    /// <summary>Pauses the guest; true when the pause finished within <paramref name="patience"/>.</summary>
    public bool Hold(TimeSpan patience)
    {
        Task step;
        lock (gate) chain = step = chain.ContinueWith(_ =>
        {
            if (machine.State == MachineRunState.Running) machine.Pause();
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return step.Wait(patience);
    }

    /// <summary>Resumes the guest once the pause before it (if any) has finished; does not wait.</summary>
    public void Release()
    {
        lock (gate) chain = chain.ContinueWith(_ =>
        {
            if (machine.State == MachineRunState.Paused) machine.Resume();
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Every pause and resume asked for so far has run (tests; a shutdown).</summary>
    public bool WaitIdle(TimeSpan patience)
    {
        Task last;
        lock (gate) last = chain;
        return last.Wait(patience);
    }
}
