namespace Tern.Migration.Compression;

/// <summary>
/// What the source does with a page when the next compression worker's queue is full (QEMU's
/// <c>compress-wait-thread</c>: on means <see cref="Wait"/>). Either way the event is counted as <c>busy</c>.
/// </summary>
public enum BusyPolicy
{
    /// <summary>Hand on finished pages, waiting for the oldest if need be, until the worker has room.</summary>
    Wait,

    /// <summary>Decline the page: the caller sends it uncompressed as a normal page, and the link stays busy.</summary>
    SendUncompressed,
}
