using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>`x-query-migrate-history` on a real `tern run` source: one report per pass, during and after the migration.</summary>
[Collection(ProcessCollection.Name)]
public sealed class MigrationHistoryTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-history-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task The_pass_history_is_readable_while_the_migration_runs_and_complete_after_it()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--backend", "sim", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        // 16 MiB rewritten at 4 MiB/s over an 8 MiB/s link: each pass about half the one before, a few passes in all.
        await using var source = TernProcess.Run(dir, "src", "--backend", "sim", "--memory", "64M", "--vcpus", "1", "--workload", "seq:ws=16M,rate=4");
        await using var src = await source.ConnectAsync();
        await using var dst = await destination.ConnectAsync();
        // Until the working set has been written once (seq counts one per page): the first pass then carries 16 MiB,
        // two seconds at 8 MiB/s, so its report is there to read while the migration is still active. Started on a
        // barely written guest, the whole migration could finish between two polls of a loaded CI machine.
        await QmpGuestCheck.WaitForEveryVcpuAsync(src, [(16UL << 20) / 4096]);
        Assert.Empty((await src.ExecuteAsync("x-query-migrate-history", cancel: Ct)).EnumerateArray());

        await src.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 8 << 20 }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);

        // During: the first pass's report appears while the migration is still active.
        JsonElement during = default, queried = default;
        string status = "setup";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            during = await src.ExecuteAsync("x-query-migrate-history", cancel: Ct);
            queried = await src.ExecuteAsync("query-migrate", cancel: Ct);
            status = queried.GetProperty("status").GetString()!;
            if (during.GetArrayLength() > 0 || status is "completed" or "failed") break;
            await Task.Delay(50, Ct);
        }
        Assert.Equal("active", status);
        Assert.Equal(1, during[0].GetProperty("pass").GetInt64());
        Assert.True(during[0].GetProperty("dirty-pages").GetInt64() > 0);
        // What the engine decided, apart from the operator's settings: the plan for the pass after the reported ones.
        var plan = queried.GetProperty("x-plan");
        long planned = plan.GetProperty("pass").GetInt64();
        var last = during[during.GetArrayLength() - 1];
        // Planned passes come before their reports, except the final one: its plan stays the latest while the
        // switchover completes (status still active), and its report may already be in the history.
        bool lastIsFinal = last.TryGetProperty("final", out var final) && final.GetBoolean();
        Assert.True(planned > last.GetProperty("pass").GetInt64() || (lastIsFinal && planned == last.GetProperty("pass").GetInt64()), $"{plan} after {last}");
        Assert.Contains(plan.GetProperty("action").GetString(), new[] { "continue", "switchover" });
        if (planned == last.GetProperty("pass").GetInt64() + 1)
            Assert.Equal(last.GetProperty("decision").GetString(), plan.GetProperty("action").GetString());
        Assert.False(string.IsNullOrEmpty(plan.GetProperty("reason").GetString()));
        Assert.False(string.IsNullOrEmpty(during[0].GetProperty("decision-reason").GetString()));

        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(120));
        Assert.True(info.GetProperty("status").GetString() == "completed", $"{info}\n{source.Output}\n{destination.Output}");
        // Where the downtime went, step by step, from the pause to the destination's Resumed.
        var steps = info.GetProperty("x-switchover").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["pause", "final-sync", "final-pass", "device-state", "sent", "ready", "commit", "resumed"], steps);

        // After: every pass, numbered without gaps, the last one the final pass sent while the guest was paused.
        var passes = (await src.ExecuteAsync("x-query-migrate-history", cancel: Ct)).EnumerateArray().ToList();
        Assert.True(passes.Count >= 2, $"{passes.Count} passes");
        for (int i = 0; i < passes.Count; i++) Assert.Equal(i + 1, passes[i].GetProperty("pass").GetInt64());
        Assert.Equal("switchover", passes[^2].GetProperty("decision").GetString());
        Assert.True(passes[^1].GetProperty("final").GetBoolean());
        Assert.Equal("complete", passes[^1].GetProperty("decision").GetString());
        Assert.All(passes[..^2], p => Assert.Equal("continue", p.GetProperty("decision").GetString()));
        Assert.Contains("within the 300 ms downtime limit", passes[^2].GetProperty("decision-reason").GetString());
        // The report's own numbers add up to what query-migrate counted.
        long sent = passes.Sum(p => p.GetProperty("normal").GetInt64() + p.GetProperty("duplicate").GetInt64());
        var ram = info.GetProperty("ram");
        Assert.Equal(ram.GetProperty("normal").GetInt64() + ram.GetProperty("duplicate").GetInt64(), sent);
        // A sync follows every pre-copy pass and precedes the final one.
        Assert.Equal(passes.Count - 1, passes.Count(p => p.TryGetProperty("sync-ms", out _)));
        Assert.Equal(ram.GetProperty("dirty-sync-count").GetInt64(), passes.Count);

        var only = await src.ExecuteAsync("x-query-migrate-history", new JsonObject { ["since"] = passes.Count - 1 }, Ct);
        Assert.Equal(passes.Count, Assert.Single(only.EnumerateArray()).GetProperty("pass").GetInt64());
    }
}
