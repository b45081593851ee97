using Tern.Os.Userfault;

namespace Tern.Memory.Postcopy;

/// <summary>
/// The fault thread: reads fault messages from the userfaultfd and hands each faulting address to the service. It
/// polls with a short timeout so that a stop request is seen promptly even when no fault ever comes, and allocates
/// nothing per message.
/// </summary>
internal sealed class UserfaultReader
{
    private const int PollMilliseconds = 50;

    private readonly UserfaultFd uffd;
    private readonly Action<ulong, bool> onFault;
    private readonly Action<Exception> onFailure;
    private readonly Thread thread;
    private volatile bool stopping;

    /// <param name="onFault">A page fault: its address, and whether it is a MINOR fault (the page is in the file, not mapped).</param>
    public UserfaultReader(UserfaultFd uffd, Action<ulong, bool> onFault, Action<Exception> onFailure)
    {
        this.uffd = uffd;
        this.onFault = onFault;
        this.onFailure = onFailure;
        thread = new Thread(Run) { IsBackground = true, Name = "tern missing-page faults" };
    }

    public void Start() => thread.Start();

    /// <summary>Asks the thread to stop; it does within one poll period.</summary>
    public void RequestStop() => stopping = true;

    /// <summary>Stops the thread and waits for it (not from the thread itself).</summary>
    public bool Stop(TimeSpan timeout)
    {
        stopping = true;
        return thread.ThreadState == ThreadState.Unstarted || thread.Join(timeout);
    }

    private void Run()
    {
        try
        {
            while (!stopping)
            {
                if (!uffd.WaitForMessage(PollMilliseconds)) continue;
                while (!stopping && uffd.TryReadMessage(out var message))
                {
                    if (message.IsPageFault) onFault(message.Address, message.IsMinor);
                }
            }
        }
        catch (Exception e)
        {
            // Never let an exception escape a thread (it would end the process with the VM in it).
            onFailure(e);
        }
    }
}
