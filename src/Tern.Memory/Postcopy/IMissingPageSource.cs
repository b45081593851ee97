namespace Tern.Memory.Postcopy;

/// <summary>
/// Where the missing-page service asks for a page that something is waiting for: later the return path to the
/// migration source; in tests a local provider.
/// </summary>
/// <remarks>
/// Asynchronous on purpose: <see cref="RequestPage"/> only asks, and the page comes back through
/// <see cref="MissingPageService.Place"/> on whichever thread receives it (the thread that reads the urgent channel,
/// or a local provider's). So the fault thread never waits for one page while other vCPUs fault on others, and a page
/// that was requested and a page the background stream brings meanwhile are placed by the same code, which keeps the
/// first and lets the second find it present (EEXIST).
/// </remarks>
public interface IMissingPageSource
{
    /// <summary>
    /// Asks for <paramref name="page"/>, once per page (at its first fault). Called on the service's fault thread or
    /// on a thread of managed code that waits for the page: queue the request and return; do not wait for the page.
    /// </summary>
    void RequestPage(PageIndex page);
}
