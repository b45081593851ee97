using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>`tern run --backend sim --display plain`, as an operator runs it: live heartbeat, progress and dirty rates, and a clean stop.</summary>
[Collection(ProcessCollection.Name)]
public sealed partial class RunSimDisplayTests
{
    // tern: running  seq:ws=64M  heartbeats 892/s  progress 56.1 M writes/s  dirty 16.3 K pages/s (63.7 MiB/s ±3.45 MiB/s; page sampling: 65 of 256 pages changed)
    [GeneratedRegex(@"^tern: running  seq:ws=64M  heartbeats (?<beats>\d+)/s  progress (?<progress>[\d.]+(?: [KMG])?) writes/s  dirty (?<dirty>[\d.]+(?: [KMG])?) pages/s \((?<bytes>[\d.]+ [KMGT]?i?B)/s ±(?<error>[\d.]+ [KMGT]?i?B)/s; page sampling: (?<changed>\d+) of (?<sampled>\d+) pages changed\)\r?$", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    private static readonly string[] Arguments = ["run", "--backend", "sim", "--memory", "256M", "--workload", "seq:ws=64M", "--display", "plain"];

    [Fact]
    public async Task Plain_display_shows_nonzero_heartbeat_progress_and_dirty_rates_and_stops_after_its_duration()
    {
        await using var tern = TernProcess.Start([.. Arguments, "--duration", "4"]);
        int exit = await tern.WaitForExitAsync(TimeSpan.FromSeconds(60));
        string output = tern.Output;
        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.Contains("tern: running seq:ws=64M on 1 vCPU(s) with 256 MiB (sim)", output);

        var lines = StatusLine().Matches(output);
        Assert.True(lines.Count >= 2, $"expected a status line a second:\n{output}");
        // Every status line is complete: the first one too, although the first page sample is drawn with the display.
        Assert.Equal(output.Split('\n').Count(l => l.StartsWith("tern: running  ", StringComparison.Ordinal)), lines.Count);
        foreach (Match line in lines)
        {
            Assert.True(int.Parse(line.Groups["beats"].Value, CultureInfo.InvariantCulture) > 0, line.Value);
            Assert.True(Rate(line.Groups["progress"].Value) > 0, line.Value);
            Assert.True(Rate(line.Groups["dirty"].Value) > 0, line.Value);
            // Between samples at least a second apart the guest can dirty no more than its 64 MiB working set and a
            // control page (16,385 pages): the page-sampled estimate stays below that but for its sampling error.
            Assert.Equal(256, int.Parse(line.Groups["sampled"].Value, CultureInfo.InvariantCulture)); // 1024 per GiB of 256 MiB
            double errorPages = Bytes(line.Groups["error"].Value) / 4096;
            Assert.True(Rate(line.Groups["dirty"].Value) - 4 * errorPages <= 16400, line.Value);
        }
        var stopped = Regex.Match(output, @"tern: stopped \(running, [1-9]\d* heartbeats, (?<writes>\d+) writes\)");
        Assert.True(stopped.Success, $"no final line with the guest's totals:\n{output}");
        // Every line measures an interval of at least a second, so no rate can exceed all the writes the guest ever
        // did. A rate over a sampling interval that had just begun can (it showed 7.7 G writes/s for 56 M).
        double totalWrites = double.Parse(stopped.Groups["writes"].Value, CultureInfo.InvariantCulture);
        foreach (Match progress in Regex.Matches(output, @"progress (?<rate>[\d.]+(?: [KMG])?) writes/s"))
            Assert.True(Rate(progress.Groups["rate"].Value) <= totalWrites * 1.05, $"{progress.Value}, but the guest did {totalWrites} writes in all:\n{output}");
        Assert.DoesNotContain("xception", output);
    }

    [Fact]
    public async Task Ctrl_c_stops_a_running_guest_cleanly()
    {
        await using var tern = TernProcess.Start(Arguments);
        await tern.WaitForLinesAsync(StatusLine(), 2, TimeSpan.FromSeconds(60));
        using (var kill = Process.Start("kill", ["-INT", tern.Process.Id.ToString(CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync(Ct);
        int exit = await tern.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, $"exit {exit} after SIGINT:\n{tern.Output}");
        Assert.Matches(@"tern: stopped \(running, [1-9]\d* heartbeats, [1-9]\d* writes\)", tern.Output);
    }

    /// <summary>Reads the display's sizes: "3.45 MiB" is 3.45 × 2^20 bytes.</summary>
    private static double Bytes(string text)
    {
        var parts = text.Split(' ');
        double value = double.Parse(parts[0], CultureInfo.InvariantCulture);
        return value * parts[1] switch { "B" => 1, "KiB" => 1 << 10, "MiB" => 1 << 20, "GiB" => 1 << 30, _ => throw new FormatException(text) };
    }

    /// <summary>Reads the display's rates: "56.1 M" is 56.1e6, "412" is 412.</summary>
    private static double Rate(string text)
    {
        var parts = text.Split(' ');
        double value = double.Parse(parts[0], CultureInfo.InvariantCulture);
        return parts.Length == 1 ? value : value * parts[1] switch { "K" => 1e3, "M" => 1e6, _ => 1e9 };
    }
}
