using System.Text.Json;
using Tern.Control.Qapi;
using Tern.Control.Text;
using Tern.Migration.Api;

namespace Tern.Control.Tests.Progress;

public sealed class GuestSlowdownReportingTests
{
    private static readonly GuestSlowdown Sample = new(12_500_000, 8_000_000, 0.3, [0.6, 0.0, null], 3.0, 1.5);

    [Fact]
    public void Query_migrate_carries_the_slowdown_as_x_members_and_reads_them_back()
    {
        var info = new MigrationInfo { Status = MigrationStatus.Completed, GuestSlowdown = Sample };
        var json = MigrationInfoJson.ToJson(info);
        Assert.Equal(12_500_000, json["x-guest-progress-before"]!.GetValue<double>());
        Assert.Equal(8_000_000, json["x-guest-progress-during"]!.GetValue<double>());
        Assert.Equal(0.3, json["x-guest-slowdown"]!.GetValue<double>());
        Assert.Equal("[0.6,0,null]", json["x-guest-slowdown-vcpus"]!.ToJsonString());

        var back = MigrationInfoJson.FromJson(JsonDocument.Parse(json.ToJsonString()).RootElement).GuestSlowdown!;
        Assert.Equal(Sample.ProgressBeforePerSecond, back.ProgressBeforePerSecond);
        Assert.Equal(Sample.ProgressDuringPerSecond, back.ProgressDuringPerSecond);
        Assert.Equal(Sample.Slowdown, back.Slowdown);
        Assert.Equal(Sample.VcpuSlowdowns, back.VcpuSlowdowns);
        Assert.Equal(Sample.BeforeSeconds, back.BeforeSeconds);
        Assert.Equal(Sample.DuringSeconds, back.DuringSeconds);
    }

    [Fact]
    public void Without_a_measurement_query_migrate_has_no_slowdown_members()
    {
        var json = MigrationInfoJson.ToJson(new MigrationInfo { Status = MigrationStatus.Active });
        Assert.DoesNotContain(json, m => m.Key.StartsWith("x-guest-progress", StringComparison.Ordinal) || m.Key.StartsWith("x-guest-slowdown", StringComparison.Ordinal));
        Assert.Null(MigrationInfoJson.FromJson(JsonDocument.Parse(json.ToJsonString()).RootElement).GuestSlowdown);
    }

    [Fact]
    public void Info_migrate_prints_the_rates_and_the_slowdown_per_vcpu()
    {
        var text = InfoMigrateFormatter.Format(new MigrationInfo { Status = MigrationStatus.Completed, GuestSlowdown = Sample });
        Assert.Contains("guest progress: 12.50 M/s before, 8.00 M/s during the migration (over 3.0 s and 1.5 s)\n", text);
        Assert.Contains("guest slowdown: 30.0% (vCPU 0 60.0%, vCPU 1 0.0%)\n", text);
    }
}
