using System.Globalization;
using Tern.Memory;
using Tern.Os;

namespace Tern.Kvm.Tests.Memory;

/// <summary>Guest RAM on 2 MiB huge pages: used when the host has them reserved, a clear error when it has not.</summary>
public sealed class GuestRamHugePagesTests
{
    private const ulong TwoMiB = 2UL << 20;

    [Fact]
    public void Huge_page_ram_takes_its_pages_from_the_reserved_pool_and_holds_data()
    {
        var pool = Pool();
        Assert.SkipUnless(pool.Total > 0,
            "skipped: this host reserves no huge pages (HugePages_Total is 0); reserve some with `echo 4 > /proc/sys/vm/nr_hugepages`");
        Assert.SkipUnless(pool.Free >= 2, $"skipped: only {pool.Free} free huge pages, this test needs 2");

        using (var ram = GuestRam.Create(2 * TwoMiB, hugePages: true))
        {
            Assert.True(ram.HugePages);
            // Reserved at creation (not at first touch), so running out is an error now rather than SIGBUS later.
            Assert.True(Pool().Free <= pool.Free - 2, $"HugePages_Free went from {pool.Free} to {Pool().Free}");

            var page = new byte[PageSize.Bytes];
            var back = new byte[PageSize.Bytes];
            for (ulong p = 0; p < ram.PageCount; p += 97)
            {
                page.AsSpan().Fill((byte)(p * 7 + 1));
                ram.WritePage(new PageIndex(p), page);
            }
            for (ulong p = 0; p < ram.PageCount; p += 97)
            {
                ram.ReadPage(new PageIndex(p), back);
                Assert.All(back, b => Assert.Equal((byte)(p * 7 + 1), b));
            }
            // The second mapping post-copy relies on also works on a hugetlb memfd and sees the same bytes.
            using var alias = MemoryMapping.MapShared(ram.BackingFile, ram.Size, 0, hugePages: true);
            Assert.Equal((byte)1, alias.GetSpan(0, 1)[0]);
        }
        Assert.Equal(pool.Free, Pool().Free);
    }

    [Fact]
    public void Asking_for_more_huge_pages_than_are_reserved_says_how_to_reserve_them()
    {
        Assert.SkipUnless(OvercommitHugePages() == 0,
            "skipped: this host lets the kernel allocate surplus huge pages (nr_overcommit_hugepages > 0), so a request beyond the reservation may succeed");
        var pool = Pool();
        long pages = pool.Free + 2;
        var e = Assert.Throws<OsException>(() => GuestRam.Create((ulong)pages * TwoMiB, hugePages: true));
        Assert.Equal(Errno.ENOSPC, e.ErrorNumber);
        Assert.Contains($"reserve {pages * 2} MiB of huge pages failed: ENOSPC", e.Message);
        Assert.Contains($"needs {pages} free 2 MiB huge pages and the host has {pool.Free} free of {pool.Total} reserved", e.Message);
        Assert.Contains($"echo {pool.Total + 2} > /proc/sys/vm/nr_hugepages", e.Message);
        Assert.Contains("or run without --huge-pages", e.Message);
    }

    [Fact]
    public void Huge_page_ram_must_be_a_whole_number_of_huge_pages()
    {
        var e = Assert.Throws<ArgumentException>(() => GuestRam.Create(3UL << 20, hugePages: true));
        Assert.Contains("multiple of 2 MiB", e.Message);
    }

    private static HostHugePages Pool()
    {
        var pool = HostHugePages.TryRead();
        Assert.SkipWhen(pool is null, "skipped: /proc/meminfo shows no huge page pool (no hugetlbfs in this kernel)");
        Assert.SkipUnless(pool!.PageBytes == TwoMiB, $"skipped: the host's default huge page size is {pool.PageBytes} bytes, not 2 MiB");
        return pool;
    }

    private static long OvercommitHugePages() =>
        long.Parse(File.ReadAllText("/proc/sys/vm/nr_overcommit_hugepages").Trim(), CultureInfo.InvariantCulture);
}
