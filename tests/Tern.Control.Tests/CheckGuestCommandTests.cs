using Tern.Control.Tests.Support;
using Tern.Guest;
using Tern.Memory;

namespace Tern.Control.Tests;

/// <summary>x-check-guest through a real QMP socket: its arguments, its answer's shape, and refusals.</summary>
public sealed class CheckGuestCommandTests
{
    private static GuestCheck Mismatching() => new(
        "seq:ws=8M",
        [41UL, 7UL],
        new VerificationReport(
            [new VerificationMismatch(1, new PageIndex(0x812), 0x200, [0x08, 0, 0, 0, 0, 0, 0, 0x02], [0, 0, 0, 0, 0, 0, 0, 0])],
            3,
            [false, true],
            4096),
        TimeSpan.FromMilliseconds(1.5));

    [Fact]
    public async Task It_reports_the_verdict_counters_and_the_first_mismatches()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.GuestCheck = Mismatching();
        await using var c = await host.ConnectNegotiatedAsync();

        var check = QmpAssert.Success(await c.CommandAsync("""{"execute": "x-check-guest"}"""));

        Assert.Equal("seq:ws=8M", check.GetProperty("workload").GetString());
        Assert.False(check.GetProperty("exact").GetBoolean());
        Assert.Equal(4096UL, check.GetProperty("pages-checked").GetUInt64());
        Assert.Equal(3UL, check.GetProperty("mismatch-count").GetUInt64());
        Assert.Equal([41UL, 7UL], check.GetProperty("counters").EnumerateArray().Select(e => e.GetUInt64()));
        Assert.Equal(1500, check.GetProperty("paused-us").GetInt64());
        var m = Assert.Single(check.GetProperty("mismatches").EnumerateArray());
        Assert.Equal(1, m.GetProperty("vcpu").GetInt32());
        Assert.Equal(0x812UL, m.GetProperty("page").GetUInt64());
        Assert.Equal(0x812200UL, m.GetProperty("address").GetUInt64());
        Assert.Equal(0x200, m.GetProperty("offset").GetInt32());
        Assert.Equal("0800000000000002", m.GetProperty("expected").GetString());
        Assert.Equal("0000000000000000", m.GetProperty("actual").GetString());
        Assert.Contains("3 mismatches in 4096 pages", check.GetProperty("report").GetString());
        Assert.Equal(["check-guest:8"], host.Vm.Calls);
    }

    [Fact]
    public async Task Max_mismatches_reaches_the_vm()
    {
        await using var host = QmpTestHost.Start();
        host.Vm.GuestCheck = Mismatching();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.Success(await c.CommandAsync("""{"execute": "x-check-guest", "arguments": {"max-mismatches": 0}}"""));
        QmpAssert.Success(await c.CommandAsync("""{"execute": "x-check-guest", "arguments": {"max-mismatches": 255}}"""));

        Assert.Equal(["check-guest:0", "check-guest:255"], host.Vm.Calls);
    }

    [Theory]
    [InlineData("""{"max-mismatches": 256}""", "Parameter 'max-mismatches' expects uint8")]
    [InlineData("""{"max-mismatches": -1}""", "Parameter 'max-mismatches' expects uint64")]
    [InlineData("""{"max-mismatches": "all"}""", "Parameter 'max-mismatches' expects uint64")]
    [InlineData("""{"pages": 3}""", "Parameter 'pages' is unexpected")]
    public async Task Wrong_arguments_are_refused_before_the_guest_is_touched(string arguments, string error)
    {
        await using var host = QmpTestHost.Start();
        host.Vm.GuestCheck = Mismatching();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync($$"""{"execute": "x-check-guest", "arguments": {{arguments}}}"""), error);

        Assert.Empty(host.Vm.Calls);
        QmpAssert.Success(await c.CommandAsync("""{"execute": "x-check-guest"}""")); // the connection stays usable
    }

    [Fact]
    public async Task A_refusal_from_the_vm_is_a_GenericError_with_its_reason()
    {
        await using var host = QmpTestHost.Start();
        await using var c = await host.ConnectNegotiatedAsync();

        QmpAssert.GenericError(await c.CommandAsync("""{"execute": "x-check-guest"}"""), "there is no guest here");
    }
}
