using Tern.Control.DirtyRate;
using Tern.Control.Tests.Support;

namespace Tern.Control.Tests.DirtyRate;

/// <summary>calc-dirty-rate and query-dirty-rate through a real QMP socket: QEMU 7.2's arguments and reply, and bad arguments refused by name.</summary>
public sealed class DirtyRateCommandTests
{
    [Theory]
    [InlineData("""{"calc-time": 1}""", "calc-dirty-rate:1:-:page-sampling")]
    [InlineData("""{"calc-time": 60, "sample-pages": 4096}""", "calc-dirty-rate:60:4096:page-sampling")]
    [InlineData("""{"calc-time": 2, "sample-pages": 128, "mode": "page-sampling"}""", "calc-dirty-rate:2:128:page-sampling")]
    [InlineData("""{"calc-time": 3, "mode": "dirty-bitmap"}""", "calc-dirty-rate:3:-:dirty-bitmap")]
    [InlineData("""{"calc-time": 3, "mode": "dirty-ring"}""", "calc-dirty-rate:3:-:dirty-ring")]
    public async Task Valid_requests_reach_the_VM_and_answer_empty(string arguments, string call)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var reply = QmpAssert.Success(await c.CommandAsync($$"""{"execute": "calc-dirty-rate", "arguments": {{arguments}}}"""));

        Assert.Equal(System.Text.Json.JsonValueKind.Object, reply.ValueKind);
        Assert.Empty(reply.EnumerateObject());
        Assert.Equal([call], host.Vm.Calls);
    }

    [Theory]
    [InlineData("""{}""", "Parameter 'calc-time' is missing")]
    [InlineData("""{"calc-time": "1"}""", "Invalid parameter type for 'calc-time', expected: integer")]
    [InlineData("""{"calc-time": 1.5}""", "Invalid parameter type for 'calc-time', expected: integer")]
    [InlineData("""{"calc-time": 0}""", "calc-time 0 is out of range: the measurement window is 1 to 60 seconds")]
    [InlineData("""{"calc-time": 61}""", "calc-time 61 is out of range: the measurement window is 1 to 60 seconds")]
    [InlineData("""{"calc-time": -5}""", "calc-time -5 is out of range: the measurement window is 1 to 60 seconds")]
    [InlineData("""{"calc-time": 1, "sample-pages": 127}""", "sample-pages 127 is out of range: 128 to 4096 pages per GiB of guest RAM (default 512)")]
    [InlineData("""{"calc-time": 1, "sample-pages": 4097}""", "sample-pages 4097 is out of range: 128 to 4096 pages per GiB of guest RAM (default 512)")]
    [InlineData("""{"calc-time": 1, "sample-pages": true}""", "Invalid parameter type for 'sample-pages', expected: integer")]
    [InlineData("""{"calc-time": 1, "mode": "dirty-log"}""", "Parameter 'mode' does not accept value 'dirty-log'")]
    [InlineData("""{"calc-time": 1, "mode": 1}""", "Invalid parameter type for 'mode', expected: string")]
    [InlineData("""{"calc-time": 1, "mode": "dirty-ring", "sample-pages": 512}""", "sample-pages applies to mode page-sampling only, not dirty-ring: leave it out or use mode page-sampling")]
    [InlineData("""{"calc-time": 1, "per-vcpu": true}""", "Parameter 'per-vcpu' is unexpected")]
    public async Task Bad_arguments_get_a_GenericError_naming_the_argument_and_nothing_starts(string arguments, string desc)
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync($$"""{"execute": "calc-dirty-rate", "arguments": {{arguments}}}"""), desc);

        Assert.Empty(host.Vm.Calls);
    }

    [Fact]
    public async Task Query_before_any_measurement_says_unstarted_with_no_rate()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-dirty-rate"}"""));

        Assert.Equal("unstarted", info.GetProperty("status").GetString());
        Assert.Equal("page-sampling", info.GetProperty("mode").GetString());
        Assert.False(info.TryGetProperty("dirty-rate", out _));
        Assert.Equal(0, info.GetProperty("calc-time").GetInt64());
    }

    [Fact]
    public async Task A_measured_rate_has_QEMUs_members_and_Terns_account_of_the_sample()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.DirtyRate = new DirtyRateInfo(DirtyRateStatus.Measured, DirtyRateMode.PageSampling, 1_765_000_000, 1, 512,
            DirtyRateMib: 16, SampledPages: 512, ChangedPages: 8, DirtyPages: 4096, WindowMs: 1001, StandardErrorMib: 5.6789);
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-dirty-rate"}"""));

        Assert.Equal(16, info.GetProperty("dirty-rate").GetInt64());
        Assert.Equal("measured", info.GetProperty("status").GetString());
        Assert.Equal(1_765_000_000, info.GetProperty("start-time").GetInt64());
        Assert.Equal(1, info.GetProperty("calc-time").GetInt64());
        Assert.Equal(512, info.GetProperty("sample-pages").GetInt64());
        Assert.Equal("page-sampling", info.GetProperty("mode").GetString());
        Assert.False(info.TryGetProperty("vcpu-dirty-rate", out _));
        Assert.Equal(512, info.GetProperty("x-sampled-pages").GetInt64());
        Assert.Equal(8, info.GetProperty("x-changed-pages").GetInt64());
        Assert.Equal(1001, info.GetProperty("x-window-ms").GetInt64());
        Assert.Equal(5.679, info.GetProperty("x-standard-error").GetDouble());
    }

    [Fact]
    public async Task Dirty_ring_results_list_each_vcpus_rate()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.DirtyRate = new DirtyRateInfo(DirtyRateStatus.Measured, DirtyRateMode.DirtyRing, 1, 2, 0, DirtyRateMib: 30, VcpuDirtyRatesMib: [10, 20]);
        await using var c = await host.ConnectNegotiatedAsync();

        var info = QmpAssert.Success(await c.CommandAsync("""{"execute": "query-dirty-rate"}"""));

        var perVcpu = info.GetProperty("vcpu-dirty-rate").EnumerateArray().ToArray();
        Assert.Equal([0, 1], perVcpu.Select(v => v.GetProperty("id").GetInt32()));
        Assert.Equal([10, 20], perVcpu.Select(v => v.GetProperty("dirty-rate").GetInt64()));
        Assert.Equal("dirty-ring", info.GetProperty("mode").GetString());
    }
}
