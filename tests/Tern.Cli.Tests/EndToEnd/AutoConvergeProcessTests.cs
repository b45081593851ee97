namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// `tern migrate --auto-converge` between two `tern run` processes: a guest that rewrites 64 MiB faster than a
/// 16 MiB/s link sends it arrives verified, with the throttle it needed in the final statistics.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class AutoConvergeProcessTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-ac-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task A_guest_that_outruns_the_link_migrates_with_auto_converge_and_reports_its_throttle()
    {
        Assert.SkipUnless(Tern.Kvm.Kvm.IsPresent, "skipped: /dev/kvm is absent; the simulated guest outruns any throttle");
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--memory", "128M", "--vcpus", "1", "--workload", "seq:ws=64M");
        await using var src = await source.ConnectAsync();
        await using var dst = await destination.ConnectAsync();
        await QmpGuestCheck.WaitForEveryVcpuAsync(src, new ulong[1]);

        var (exit, output, error) = await TernRun.InvokeAsync(
            "migrate", "--qmp", source.QmpPath, $"tcp:127.0.0.1:{port}", "--verify", "--auto-converge", "--max-bandwidth", "16M", "--timeout", "150");

        string context = $"{output}\n{error}\n--- source:\n{source.Output}\n--- destination:\n{destination.Output}";
        Assert.True(exit == 0, context);
        Assert.Contains("Migration status: completed", output);
        Assert.Contains("verification: matched", output);
        Assert.Matches(@"throttle reason: .*MiB/s", output);
        Assert.Equal("running", await TernProcess.StatusAsync(dst));
        await QmpGuestCheck.ExactAsync(dst, context);
    }
}
