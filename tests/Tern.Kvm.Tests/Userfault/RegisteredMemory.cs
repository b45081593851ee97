using Tern.Os;
using Tern.Os.Userfault;

namespace Tern.Kvm.Tests.Userfault;

/// <summary>
/// A few pages of memfd memory mapped shared, as guest RAM is, with a userfaultfd that has them registered in MISSING
/// mode. Disposal closes the userfaultfd first, which wakes any thread still blocked on a missing page (its access
/// fails), so a broken test fails instead of leaving a thread stuck.
/// </summary>
internal sealed class RegisteredMemory : IDisposable
{
    public const int Pages = 4;
    public static readonly int PageSize = UserfaultFd.PageSize;
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly FileDescriptor memfd;
    private readonly List<KernelToucher> touchers = [];

    public RegisteredMemory(UserfaultFeatures features = UserfaultFeatures.MissingShmem)
    {
        memfd = MemFd.Create("tern-uffd-test", (ulong)(Pages * PageSize));
        Mapping = MemoryMapping.MapShared(memfd, (ulong)(Pages * PageSize));
        Uffd = UserfaultFd.Open(features);
        Registration = Uffd.Register(Mapping.Address, Mapping.Length);
    }

    public MemoryMapping Mapping { get; }
    public UserfaultFd Uffd { get; }
    public UserfaultRegistration Registration { get; }

    public nint PageAddress(int page) => Mapping.Address + page * PageSize;

    public KernelToucher Touch(int page, KernelToucher.Access access = KernelToucher.Access.ReadsPage, byte fileFill = 0xEE)
    {
        var toucher = KernelToucher.Start(Mapping, (ulong)(page * PageSize), PageSize, access, fileFill);
        touchers.Add(toucher);
        return toucher;
    }

    /// <summary>The next fault message, or a failed assertion if none arrives in time.</summary>
    public UserfaultMessage NextFault()
    {
        Assert.True(Uffd.WaitForMessage((int)Patience.TotalMilliseconds), $"no userfault message within {Patience}");
        Assert.True(Uffd.TryReadMessage(out var message), "poll said readable but no message could be read");
        Assert.True(message.IsPageFault, $"expected a page fault, got event 0x{message.Event:x}");
        return message;
    }

    /// <summary>The page's bytes as the memfd holds them, read with pread (never through the registered mapping).</summary>
    public byte[] MemfdPage(int page)
    {
        using var file = new Microsoft.Win32.SafeHandles.SafeFileHandle(memfd.DangerousGetHandle(), ownsHandle: false);
        var bytes = new byte[PageSize];
        Assert.Equal(PageSize, RandomAccess.Read(file, bytes, (long)page * PageSize));
        return bytes;
    }

    public static byte[] Pattern(int seed)
    {
        var bytes = new byte[PageSize];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public void Dispose()
    {
        Uffd.Dispose();
        foreach (var toucher in touchers) toucher.Dispose();
        Mapping.Dispose();
        memfd.Dispose();
    }
}
