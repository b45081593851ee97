using System.Text.Json;
using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// A guest whose vCPUs run different workloads (one dirtying memory, one computing) migrates between two `tern run`
/// processes: the destination rebuilds the same per-vCPU model from the machine description and finds every byte
/// exact, and query-migrate and `tern migrate` report how much the migration slowed the guest.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class PerVcpuWorkloadMigrationTests : IDisposable
{
    private const string Workload = "seq:ws=32M,rate=10,content=mixed;compute";

    private readonly string dir = Directory.CreateTempSubdirectory("tern-e2e-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("auto")] // KVM where /dev/kvm exists
    [InlineData("sim")]
    public async Task A_seq_and_compute_guest_arrives_exact_and_the_migration_reports_the_guests_slowdown(string backend)
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--backend", backend, "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var source = TernProcess.Run(dir, "src", "--backend", backend, "--memory", "128M", "--vcpus", "2", "--workload", Workload);
        await using var src = await source.ConnectAsync();
        await using var dst = await destination.ConnectAsync();
        var guest = await src.ExecuteAsync("x-query-guest", cancel: Ct);
        Assert.Equal(Workload, guest.GetProperty("workload").GetString());
        await QmpGuestCheck.WaitForEveryVcpuAsync(src, new ulong[2]);
        await Task.Delay(1500, Ct); // a window of progress before the migration to compare with

        // A 24 MiB/s link: the first pass alone takes over a second, so the live phase has a measurable length.
        var (code, output, error) = await TernRun.InvokeAsync("migrate", "--qmp", source.QmpPath, $"tcp:127.0.0.1:{port}",
            "--verify", "--max-bandwidth", "24M");
        string context = $"{output}\n{error}\n--- source:\n{source.Output}\n--- destination:\n{destination.Output}";
        Assert.True(code == 0, context);
        Assert.Contains("Migration status: completed", output);
        Assert.Contains("verification: matched", output);
        Assert.Matches(@"guest progress: [0-9.]+ ?[kMG]?/s before, [0-9.]+ ?[kMG]?/s during the migration", output);
        Assert.Matches(@"guest slowdown: -?[0-9.]+% \(vCPU 0 -?[0-9.]+%, vCPU 1 -?[0-9.]+%\)", output);

        var info = await src.ExecuteAsync("query-migrate", cancel: Ct);
        double before = info.GetProperty("x-guest-progress-before").GetDouble();
        double during = info.GetProperty("x-guest-progress-during").GetDouble();
        double slowdown = info.GetProperty("x-guest-slowdown").GetDouble();
        var perVcpu = info.GetProperty("x-guest-slowdown-vcpus").EnumerateArray().ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"progress {before:0} /s before, {during:0} /s during, slowdown {slowdown:0.000} [{string.Join(", ", perVcpu)}]");
        Assert.True(before > 1000, $"{info}");
        Assert.True(during > 0, $"{info}");
        Assert.InRange(slowdown, -1.0, 1.0);
        Assert.Equal(2, perVcpu.Count);
        Assert.All(perVcpu, f => Assert.Equal(JsonValueKind.Number, f.ValueKind));
        Assert.Equal((perVcpu[0].GetDouble() + perVcpu[1].GetDouble()) / 2, slowdown, 9);
        Assert.True(info.GetProperty("x-guest-progress-during-seconds").GetDouble() >= 0.2, $"{info}");

        // The destination built the same two-workload model from the description and finds every byte as it says.
        var arrived = await dst.ExecuteAsync("x-query-guest", cancel: Ct);
        Assert.Equal(Workload, arrived.GetProperty("workload").GetString());
        var handedOver = await QmpGuestCheck.ExactAsync(src, context);
        var check = await QmpGuestCheck.ExactAsync(dst, context);
        Assert.True(check.PagesChecked == 32 * 256, check.Report);
        for (int v = 0; v < 2; v++) Assert.True(check.Counters[v] >= handedOver.Counters[v]);
        await QmpGuestCheck.WaitForEveryVcpuAsync(dst, check.Counters);
        await QmpGuestCheck.ExactAsync(dst, context);
    }

    [Fact]
    public async Task Tern_demo_with_a_workload_per_vcpu_reports_the_guests_slowdown()
    {
        var (code, output, error) = await TernRun.InvokeAsync("demo", "--memory", "256M", "--vcpus", "2", "--workload", "seq:ws=64M,rate=100;compute");
        Assert.True(code == 0, $"{output}\n{error}");
        Assert.Contains("Migration status: completed", output);
        Assert.Matches(@"guest slowdown: -?[0-9.]+% \(vCPU 0 -?[0-9.]+%, vCPU 1 -?[0-9.]+%\)", output);
        Assert.Contains("the guest's memory on the destination matches its workload model (16384 pages checked)", output);
    }

    [Fact]
    public async Task A_per_vcpu_workload_that_does_not_match_the_vcpu_count_is_refused_saying_so()
    {
        await using var source = TernProcess.Start("run", "--memory", "64M", "--vcpus", "3", "--workload", "seq:ws=16M;compute", "--display", "plain");
        int exit = await source.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, exit);
        Assert.Contains("gives 2 vCPUs their own workloads but the guest has 3 vCPUs", source.Output);
    }
}
