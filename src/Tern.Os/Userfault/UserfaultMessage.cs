namespace Tern.Os.Userfault;

/// <summary>
/// One message read from a userfaultfd, decoded once from <c>struct uffd_msg</c>. Tern registers MISSING (and
/// MINOR) mode and asks for no non-cooperative events, so every message it reads is a page fault; anything else is reported as
/// <see cref="IsPageFault"/> false with its raw event number.
/// </summary>
/// <param name="IsMinor">A MINOR fault: the page is in the file but not mapped (resolved by UFFDIO_CONTINUE).</param>
public readonly record struct UserfaultMessage(byte Event, ulong Address, bool IsWrite, int ThreadId, bool IsMinor = false)
{
    public bool IsPageFault => Event == UserfaultIoctls.EventPagefault;

    internal static UserfaultMessage From(in UffdMsg message) => new(
        message.Event,
        message.PagefaultAddress,
        (message.PagefaultFlags & UserfaultIoctls.PagefaultFlagWrite) != 0,
        (int)message.PagefaultPtid,
        (message.PagefaultFlags & UserfaultIoctls.PagefaultFlagMinor) != 0);
}

/// <summary>What a Copy or ZeroPage did.</summary>
public enum PagePlacement
{
    /// <summary>Every page of the range was placed by this call.</summary>
    Placed,

    /// <summary>
    /// At least one page of the range was already present (EEXIST: placed earlier, or raced with another placer) and
    /// was left as it was; the others were placed.
    /// </summary>
    SomeAlreadyPresent,
}
