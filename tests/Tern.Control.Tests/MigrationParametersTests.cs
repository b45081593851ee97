using Tern.Control.Tests.Support;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

public sealed class MigrationParametersTests
{
    [Fact]
    public async Task Query_reports_every_parameter_under_its_QAPI_name()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var p = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate-parameters"}"""));

        var defaults = new MigrationParameters();
        Assert.Equal(defaults.DowntimeLimitMs, p.GetProperty("downtime-limit").GetInt64());
        Assert.Equal(defaults.MaxBandwidth, p.GetProperty("max-bandwidth").GetUInt64());
        Assert.Equal(0UL, p.GetProperty("max-postcopy-bandwidth").GetUInt64()); // QEMU's default: unlimited after the switch
        Assert.Equal(defaults.XbzrleCacheSize, p.GetProperty("xbzrle-cache-size").GetUInt64());
        Assert.Equal(defaults.MultifdChannels, p.GetProperty("multifd-channels").GetInt32());
        Assert.Equal(defaults.CompressLevel, p.GetProperty("compress-level").GetInt32());
        Assert.Equal(defaults.CompressThreads, p.GetProperty("compress-threads").GetInt32());
        Assert.Equal(defaults.DecompressThreads, p.GetProperty("decompress-threads").GetInt32());
        Assert.Equal(defaults.CompressMethod, p.GetProperty("x-compress-method").GetString());
        Assert.Equal(defaults.MemoryBudget, p.GetProperty("x-memory-budget").GetUInt64());
        Assert.Equal(defaults.TimeoutMs, p.GetProperty("x-timeout").GetInt64());
        Assert.Equal(0, p.GetProperty("x-xbzrle-threads").GetInt32());
        Assert.Equal(50, p.GetProperty("throttle-trigger-threshold").GetInt32());
        Assert.Equal(20, p.GetProperty("cpu-throttle-initial").GetInt32());
        Assert.Equal(10, p.GetProperty("cpu-throttle-increment").GetInt32());
        Assert.False(p.GetProperty("cpu-throttle-tailslow").GetBoolean());
        Assert.Equal(99, p.GetProperty("max-cpu-throttle").GetInt32());
        Assert.Equal(1, p.GetProperty("vcpu-dirty-limit").GetInt32());
        Assert.Equal("computed", p.GetProperty("x-throttle-method").GetString());
        Assert.Equal(19, p.EnumerateObject().Count());
    }

    [Fact]
    public async Task Set_changes_the_named_parameters_and_keeps_the_others()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.SetParameters(new MigrationParameters { CompressLevel = 5 });
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.Success(await c.CommandAsync("""
            {"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 50, "max-bandwidth": 125000000,
             "multifd-channels": 8, "x-compress-method": "lz4", "x-timeout": 60000, "xbzrle-cache-size": 268435456,
             "max-postcopy-bandwidth": 52428800, "x-xbzrle-threads": 2}}
            """));

        var p = host.Vm.GetParameters();
        Assert.Equal(50, p.DowntimeLimitMs);
        Assert.Equal(125_000_000UL, p.MaxBandwidth);
        Assert.Equal(8, p.MultifdChannels);
        Assert.Equal("lz4", p.CompressMethod);
        Assert.Equal(60_000, p.TimeoutMs);
        Assert.Equal(268_435_456UL, p.XbzrleCacheSize);
        Assert.Equal(52_428_800UL, p.MaxPostcopyBandwidth);
        Assert.Equal(2, p.XbzrleThreads);
        Assert.Equal(5, p.CompressLevel);   // untouched
        var reported = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-migrate-parameters"}"""));
        Assert.Equal(8, reported.GetProperty("multifd-channels").GetInt32());
    }

    [Theory]
    [InlineData("{\"downtime-limit\": \"x\"}", "Parameter 'downtime-limit' expects uint64")]
    [InlineData("{\"downtime-limit\": -1}", "Parameter 'downtime-limit' expects uint64")]
    [InlineData("{\"multifd-channels\": 1.5}", "Parameter 'multifd-channels' expects uint64")]
    [InlineData("{\"multifd-channels\": 300}", "Parameter 'multifd-channels' expects uint8_t")]
    [InlineData("{\"x-compress-method\": 1}", "Invalid parameter type for 'x-compress-method', expected: string")]
    [InlineData("{\"cpu-throttle-tailslow\": 1}", "Invalid parameter type for 'cpu-throttle-tailslow', expected: boolean")]
    [InlineData("{\"tls-creds\": \"x\"}", "Parameter 'tls-creds' is unexpected")]
    [InlineData("{\"downtime-limit\": 100, \"Downtime-Limit\": 100}", "Parameter 'Downtime-Limit' is unexpected")]
    public async Task Set_checks_argument_types_like_QEMU(string arguments, string error)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync($$"""{"execute": "migrate-set-parameters", "arguments": {{arguments}}}"""), error);
        Assert.Empty(host.Vm.Calls);
    }

    [Theory]
    [InlineData("{\"downtime-limit\": 0}", "downtime-limit must be between 1 and 2000000 ms")]
    [InlineData("{\"downtime-limit\": 3000000}", "downtime-limit must be between 1 and 2000000 ms")]
    [InlineData("{\"multifd-channels\": 0}", "multifd-channels must be between 1 and 64")]
    [InlineData("{\"compress-level\": 23}", "compress-level must be between 1 and 22")]
    [InlineData("{\"x-compress-method\": \"brotli\"}", "x-compress-method must be zstd, lz4 or zlib")]
    [InlineData("{\"xbzrle-cache-size\": 100}", "xbzrle-cache-size must be 0 (automatic) or at least one page (4096)")]
    [InlineData("{\"max-cpu-throttle\": 100}", "max-cpu-throttle must be between 1 and 99")]
    [InlineData("{\"cpu-throttle-initial\": 0}", "cpu-throttle-initial must be between 1 and 99")]
    [InlineData("{\"throttle-trigger-threshold\": 101}", "throttle-trigger-threshold must be between 1 and 100")]
    [InlineData("{\"x-throttle-method\": \"pid\"}", "x-throttle-method must be computed or step")]
    [InlineData("{\"vcpu-dirty-limit\": 0}", "vcpu-dirty-limit must be at least 1 MB/s")]
    [InlineData("{\"x-xbzrle-threads\": 65}", "x-xbzrle-threads must be between 0 (automatic) and 64")]
    public async Task Values_that_fail_validation_are_refused_with_its_message(string arguments, string error)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync($$"""{"execute": "migrate-set-parameters", "arguments": {{arguments}}}"""), error);
        Assert.Empty(host.Vm.Calls);
        Assert.Equal(new MigrationParameters(), host.Vm.GetParameters());
    }

    [Fact]
    public async Task An_empty_update_is_accepted()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.Success(await c.CommandAsync("""{"execute": "migrate-set-parameters"}"""));

        Assert.Equal(new MigrationParameters(), host.Vm.GetParameters());
    }
}
