namespace Tern.Migration.Protocol;

/// <summary>
/// Every message of Tern's migration protocol. Zero is never valid, so a zeroed or truncated header is caught.
/// Direction: S = source to destination, D = destination to source (the return path).
/// </summary>
public enum MessageType : ushort
{
    Invalid = 0,
    /// <summary>S: first message on the main connection: versions, capabilities, machine description.</summary>
    Hello = 1,
    /// <summary>D: the chosen version and the capabilities both sides will use.</summary>
    Welcome = 2,
    /// <summary>S: first message on an extra page-data connection.</summary>
    ChannelHello = 3,
    /// <summary>S: a pass begins; lists the channels that carry it.</summary>
    PassBegin = 4,
    /// <summary>S: a batch of page records (on any channel).</summary>
    Pages = 5,
    /// <summary>S: this channel has sent everything of the pass (a barrier, on every channel of the pass).</summary>
    PassEnd = 6,
    /// <summary>S: switches a negotiated capability on or off from now on.</summary>
    SetCapability = 7,
    /// <summary>S: vCPU, VM and device state, sent while the guest is paused.</summary>
    DeviceState = 8,
    /// <summary>S: everything has been sent (with the RAM digest when verifying): check and prepare.</summary>
    Complete = 9,
    /// <summary>D: the destination holds everything and is ready to resume (step one of the hand-over).</summary>
    Ready = 10,
    /// <summary>S: the source has given the VM up: resume it (step two of the hand-over).</summary>
    Commit = 11,
    /// <summary>D: the VM runs on the destination.</summary>
    Resumed = 12,
    /// <summary>
    /// Reserved: never sent in version 1, and rejected as unexpected if received. A cancel travels as
    /// <see cref="Error"/> with code <see cref="ErrorMessage.Cancelled"/> (2); the destination then discards its copy.
    /// </summary>
    Cancel = 13,
    /// <summary>S or D: the migration failed; the text says why.</summary>
    Error = 14,
    /// <summary>S (post-copy): the guest is paused; these pages are stale on the destination (a bitmap of RAM).</summary>
    PostcopyBegin = 15,
    /// <summary>S (post-copy): pages after the switch, whole or zero (main connection: background; urgent lane: requested).</summary>
    PostcopyPages = 16,
    /// <summary>D (post-copy, urgent lane): pages a vCPU is waiting for.</summary>
    PageRequest = 17,
    /// <summary>S (post-copy): every stale page has been sent on one lane or the other.</summary>
    PostcopyStreamEnd = 18,
    /// <summary>D (post-copy): every page has arrived (with the digest of the pages as received when verifying).</summary>
    PostcopyDone = 19,
    /// <summary>
    /// D (post-copy recovery, first on the recovered main connection): the pages the destination holds, so the source
    /// resends exactly the others.
    /// </summary>
    PostcopyReceived = 20,
    /// <summary>
    /// S (post-copy, before PostcopyBegin, the guest still running on the source): pages the destination holds stale
    /// copies of, dirty at the last sync (a bitmap of RAM). The destination drops them now, so that only the pages
    /// dirtied since are dropped while the guest is paused. Only with <see cref="ProtocolCapability.PostcopyDiscard"/>.
    /// </summary>
    PostcopyDiscard = 21,
    /// <summary>D: the pages named by PostcopyDiscard are dropped (the count of pages that held data).</summary>
    PostcopyDiscarded = 22,
    /// <summary>
    /// D (main): every page of this pass (a pass that is not final) is in guest RAM, on every channel the pass used.
    /// Only with <see cref="ProtocolCapability.PassApplied"/>: the source waits for it before it pauses the guest, so
    /// that the pause does not also wait for a backlog of earlier passes.
    /// </summary>
    PassApplied = 23,
}
