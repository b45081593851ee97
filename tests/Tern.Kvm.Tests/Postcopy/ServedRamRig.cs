using Tern.Memory;
using Tern.Memory.Postcopy;

namespace Tern.Kvm.Tests.Postcopy;

/// <summary>
/// Real memfd guest RAM, its received-pages record and a recording page source, with the missing-page service under
/// test and the accesses made to RAM (each by the kernel inside a system call, <see cref="RamToucher"/>).
/// </summary>
internal sealed class ServedRamRig : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly List<RamToucher> touchers = [];

    public ServedRamRig(int pages, StalePageHandling handling = StalePageHandling.Drop)
    {
        Ram = GuestRam.Create((ulong)pages * PageSize.Bytes);
        Received = new ReceivedPages((ulong)pages);
        Service = new MissingPageService(Ram, Received, Source, handling);
    }

    public GuestRam Ram { get; }
    public ReceivedPages Received { get; }
    public RecordingPageSource Source { get; } = new();
    public MissingPageService Service { get; }

    /// <summary>Reads a page in a system call of its own thread (it blocks while the page is missing).</summary>
    public RamToucher Read(int page)
    {
        var toucher = RamToucher.Read(Ram, new PageIndex((ulong)page));
        touchers.Add(toucher);
        return toucher;
    }

    public static byte[] Pattern(int seed)
    {
        var bytes = new byte[PageSize.Bytes];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static void Completes(RamToucher toucher)
    {
        Assert.True(toucher.WaitForCompletion(Patience), "the access to the page was never served");
        Assert.Null(toucher.Failure);
    }

    public void Dispose()
    {
        Service.Dispose(); // first: it releases any toucher still blocked
        foreach (var t in touchers) t.Dispose();
        Ram.Dispose();
    }
}
