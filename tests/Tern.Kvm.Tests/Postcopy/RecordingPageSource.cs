using System.Collections.Concurrent;
using Tern.Memory;
using Tern.Memory.Postcopy;

namespace Tern.Kvm.Tests.Postcopy;

/// <summary>A source that only records what was requested; the test places pages itself.</summary>
internal sealed class RecordingPageSource : IMissingPageSource
{
    private readonly BlockingCollection<PageIndex> requests = new();

    public void RequestPage(PageIndex page) => requests.Add(page);

    public PageIndex NextRequest()
    {
        Assert.True(requests.TryTake(out var page, TimeSpan.FromSeconds(20)), "no page was requested within 20 s");
        return page;
    }

    public int Pending => requests.Count;
}
