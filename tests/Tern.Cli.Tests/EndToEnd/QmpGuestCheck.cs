using Tern.Control.Qmp;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>The guest as x-check-guest (RAM against the workload model) and x-query-guest (counters) show it over QMP.</summary>
internal sealed record QmpGuestCheck(bool Exact, ulong PagesChecked, ulong[] Counters, string Report)
{
    public static async Task<QmpGuestCheck> RunAsync(QmpClient client)
    {
        var r = await client.ExecuteAsync("x-check-guest", cancel: Ct);
        return new QmpGuestCheck(
            r.GetProperty("exact").GetBoolean(),
            r.GetProperty("pages-checked").GetUInt64(),
            [.. r.GetProperty("counters").EnumerateArray().Select(c => c.GetUInt64())],
            r.GetProperty("report").GetString()!);
    }

    /// <summary>Checks the guest and fails the test, with the model's report, unless every byte is as expected.</summary>
    public static async Task<QmpGuestCheck> ExactAsync(QmpClient client, string context)
    {
        var check = await RunAsync(client);
        Assert.True(check.Exact, $"{check.Report}\n{context}");
        return check;
    }

    /// <summary>Waits (polling; a busy machine may keep a vCPU thread waiting for a core) until every vCPU's counter passed <paramref name="from"/>.</summary>
    public static async Task WaitForEveryVcpuAsync(QmpClient client, ulong[] from)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var progress = (await client.ExecuteAsync("x-query-guest", cancel: Ct)).GetProperty("progress");
            ulong[] now = [.. progress.EnumerateArray().Select(p => p.GetUInt64())];
            Assert.Equal(from.Length, now.Length);
            if (now.Zip(from).All(p => p.First > p.Second)) return;
            Assert.True(DateTime.UtcNow < deadline, $"a vCPU made no progress in 30 s: [{string.Join(", ", from)}] -> [{string.Join(", ", now)}]");
            await Task.Delay(50, Ct);
        }
    }
}
