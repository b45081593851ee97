namespace Tern.Migration.Engine;

/// <summary>Where an incoming migration stands.</summary>
public enum DestinationState
{
    /// <summary>Listening for the source's Hello.</summary>
    AwaitingHello,
    /// <summary>Receiving passes of RAM, then the device state.</summary>
    Receiving,
    /// <summary>Told the source it holds everything (Ready); waiting for Commit.</summary>
    AwaitingCommit,
    /// <summary>Post-copy: the guest runs here while its missing pages arrive (on request and in the background).</summary>
    PostcopyActive,
    /// <summary>
    /// Post-copy, the link broke (or migrate-pause): the guest is held here with every page that arrived, the rest are on
    /// the source; waiting for <c>migrate-recover</c>.
    /// </summary>
    PostcopyPaused,
    /// <summary>Post-copy paused, <c>migrate-recover</c> run: waiting for the source's new main connection.</summary>
    PostcopyRecover,
    /// <summary>The guest runs here.</summary>
    Completed,
    /// <summary>The attempt failed before the hand-over; the copy was discarded and the source keeps the VM.</summary>
    Discarded,
    /// <summary>
    /// The link failed after Ready and before Commit: this side holds a complete, paused copy. Whether it should run
    /// depends on the source: if the source is not running the VM, <c>cont</c> here runs it.
    /// </summary>
    HandOverUncertain,
}
