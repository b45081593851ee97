using System.Globalization;
using Tern.Os;

namespace Tern.Cli.Tests;

/// <summary>`tern run --huge-pages` on a host without enough reserved huge pages tells the operator what to do.</summary>
public sealed class RunHugePagesTests
{
    [Fact]
    public async Task Huge_pages_that_are_not_reserved_give_an_error_that_says_how_to_reserve_them()
    {
        var pool = HostHugePages.TryRead();
        Assert.SkipWhen(pool is null || pool.PageBytes != 2UL << 20, "skipped: this host has no 2 MiB huge page pool");
        long overcommit = long.Parse(File.ReadAllText("/proc/sys/vm/nr_overcommit_hugepages").Trim(), CultureInfo.InvariantCulture);
        Assert.SkipUnless(overcommit == 0 && pool!.Free < 32,
            $"skipped: this host could back 64 MiB with huge pages ({pool!.Free} free, overcommit {overcommit}), so no error is due");

        var (code, output, error) = await TernRun.InvokeAsync(
            "run", "--backend", "sim", "--huge-pages", "--memory", "64M", "--workload", "idle", "--duration", "1", "--display", "none");
        Assert.True(code == 1, $"exit {code}:\n{output}\n{error}");
        Assert.Contains("tern run: reserve 64 MiB of huge pages failed: ENOSPC", error);
        Assert.Contains("/proc/sys/vm/nr_hugepages", error);
        Assert.Contains("or run without --huge-pages", error);
    }
}
