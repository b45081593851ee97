namespace Tern.Os.Userfault;

/// <summary>
/// One message read from a userfaultfd, decoded once from <c>struct uffd_msg</c>. Tern registers only MISSING mode
/// and asks for no non-cooperative events, so every message it reads is a page fault; anything else is reported as
/// <see cref="IsPageFault"/> false with its raw event number.
/// </summary>
public readonly record struct UserfaultMessage(byte Event, ulong Address, bool IsWrite, int ThreadId)
{
    public bool IsPageFault => Event == UserfaultIoctls.EventPagefault;

    internal static UserfaultMessage From(in UffdMsg message) => new(
        message.Event,
        message.PagefaultAddress,
        (message.PagefaultFlags & UserfaultIoctls.PagefaultFlagWrite) != 0,
        (int)message.PagefaultPtid);
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
