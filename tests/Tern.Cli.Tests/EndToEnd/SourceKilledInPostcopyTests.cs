using System.Text.RegularExpressions;
using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// The only loss post-copy cannot survive: the source process dies after the switch, with pages the destination never
/// received. The destination does not crash or fail: it stays postcopy-paused with its guest paused (vCPUs waiting for
/// their pages, none run on a page that did not come), and query-migrate's error-desc says how much exists only on the
/// source. x-check-guest is refused (it would read a missing page).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SourceKilledInPostcopyTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-e2e-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task The_destination_stays_postcopy_paused_and_says_what_was_lost()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--backend", "sim", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--backend", "sim", "--memory", "64M", "--vcpus", "2", "--workload", PostcopyProcesses.Workload);
        await using var src = await source.ConnectAsync();
        await using var dst = await destination.ConnectAsync();
        await QmpGuestCheck.WaitForEveryVcpuAsync(src, new ulong[2]);

        await PostcopyProcesses.StartInPostcopyAsync(src, $"tcp:127.0.0.1:{port}");
        source.Process.Kill(entireProcessTree: true);

        await PostcopyProcesses.WaitForStatusAsync(dst, "postcopy-paused");
        var info = await dst.ExecuteAsync("query-migrate", cancel: Ct);
        string context = $"{info}\n--- destination:\n{destination.Output}";
        var error = info.GetProperty("error-desc").GetString()!;
        Assert.Matches(new Regex(@"[1-9][0-9]* pages \([0-9.]+ [KMG]iB\) are only on the source"), error);
        Assert.True(info.GetProperty("x-postcopy").GetProperty("missing-pages").GetInt64() > 0, context);
        Assert.Equal("paused", await TernProcess.StatusAsync(dst));
        var refused = await Assert.ThrowsAsync<QmpErrorException>(() => dst.ExecuteAsync("x-check-guest", cancel: Ct));
        Assert.Contains("still on the source", refused.Description);
        Assert.Contains("recover", (await Assert.ThrowsAsync<QmpErrorException>(() => dst.ExecuteAsync("cont", cancel: Ct))).Description);

        // Later still: nothing crashed, nothing failed, the destination still waits to be recovered.
        await Task.Delay(2000, Ct);
        Assert.False(destination.Process.HasExited, context);
        Assert.Equal("postcopy-paused", await PostcopyProcesses.StatusAsync(dst));
        Assert.DoesNotContain("Unhandled exception", destination.Output);
    }
}
