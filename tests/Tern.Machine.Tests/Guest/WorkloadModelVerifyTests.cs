using Tern.Guest;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class WorkloadModelVerifyTests
{
    public static TheoryData<string, ulong> Cases => new()
    {
        { "seq:ws=64K", 1000 },
        { "seq:ws=64K", 3 },
        { "random:ws=64K", 5000 },
        { "hotcold:ws=64K,hot=16K", 5000 },
        { "hotcold:ws=64K,hot=16K,p=1", 700 },
        { "stride:ws=64K", 1000 },
        { "stride:ws=64K", 64 * 300 + 5 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Memory_written_by_the_model_verifies_exactly(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter);
        var report = s.Model.Verify(s.Ram, s.Counters());
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal([false, false], report.InFlightWriteApplied);
        Assert.Equal(s.Image.Layout!.WorkingSet.PageCount, report.PagesChecked);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_one_in_flight_write_is_accepted_applied_or_not(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter);
        s.Model.Apply(s.Ram, 1, counter + 1, counter + 2); // vCPU 1 wrote its next write ...
        s.SetCounter(1, counter + 1);                    // ... but was stopped before counting it
        var report = s.Model.Verify(s.Ram, s.Counters());
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal([false, true], report.InFlightWriteApplied);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Two_uncounted_writes_are_a_mismatch(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter, vcpus: 1);
        var expected = (byte[])s.Ram.Clone();
        s.Model.Apply(s.Ram, 0, counter, counter + 2);
        s.SetCounter(0, counter);
        var report = s.Model.Verify(s.Ram, s.Counters());
        // For seq and stride the second write lands elsewhere; for random it may hit the first one's slot only by chance.
        if (s.Model.WriteTarget(0, counter + 1) != s.Model.WriteTarget(0, counter))
        {
            Assert.False(report.IsExact);
            Assert.Equal(s.Model.WriteTarget(0, counter + 1), report.Mismatches[0].Address);
        }
        Assert.NotEqual(expected, s.Ram);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_counter_ahead_of_memory_is_a_mismatch(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter, vcpus: 1);
        s.SetCounter(0, counter + 2);
        var report = s.Model.Verify(s.Ram, s.Counters());
        Assert.False(report.IsExact);
        Assert.Contains(report.Mismatches, m => m.Address == s.Model.WriteTarget(0, counter));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_single_flipped_byte_anywhere_in_the_working_set_is_found(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter);
        var ws = s.Image.Layout!.WorkingSet;
        var targets = new[] { s.Model.WriteTarget(0, counter - 1), s.Model.WriteTarget(1, 0), ws.Start.Add(ws.Length - 1), ws.Start.Add(100) };
        foreach (var address in targets)
        {
            byte before = s.Ram[address.Value];
            s.Ram[address.Value] ^= 0x40;
            var report = s.Model.Verify(s.Ram, s.Counters());
            s.Ram[address.Value] = before;

            Assert.Equal(1UL, report.MismatchCount);
            var m = Assert.Single(report.Mismatches);
            Assert.Equal(address.Page, m.Page);
            Assert.InRange(address.Value - m.Address.Value, 0UL, 7UL);
            int at = (int)(address.Value - m.Address.Value);
            Assert.Equal((byte)(before ^ 0x40), m.Actual[at]);
            Assert.Equal(before, m.Expected[at]);
            Assert.Contains($"page 0x{m.Page.Value:x}", report.ToString());
        }
        Assert.True(s.Model.Verify(s.Ram, s.Counters()).IsExact);
    }

    [Fact]
    public void Reports_at_most_the_requested_number_of_mismatches_but_counts_all()
    {
        var s = ModelledRam.Run("seq:ws=64K", 16 * 8);
        var ws = s.Image.Layout!.WorkingSet;
        for (ulong p = 0; p < ws.PageCount; p++) s.Ram[ws.Start.Value + p * 4096 + 100] = 1;
        var report = s.Model.Verify(s.Ram, s.Counters(), maxMismatches: 3);
        Assert.Equal(3, report.Mismatches.Count);
        Assert.Equal(ws.PageCount, report.MismatchCount);
        Assert.Contains("16 mismatches", report.ToString());
    }

    [Fact]
    public void Idle_has_nothing_to_verify_and_counts_ticks()
    {
        var image = GuestFixtures.Build("idle", vcpus: 2);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        model.Apply(ram, 1, 0, 42);
        Assert.Equal([0UL, 42UL], model.ReadCounters(ram));
        Assert.True(model.Verify(ram, model.ReadCounters(ram)).IsExact);
        Assert.Equal(0UL, model.ExpectedWorkingSet(model.ReadCounters(ram)).Count);
    }

    [Fact]
    public void Verify_stops_replaying_once_every_slot_is_known()
    {
        // A billion writes over 16 pages: the backwards replay must stop after a few thousand.
        var image = GuestFixtures.Build("random:ws=64K", vcpus: 1);
        var model = new WorkloadModel(image.Layout!);
        byte[] ram = GuestFixtures.Ram(image);
        const ulong counter = 1_000_000_000;
        var writer = new SpanPageWriter(ram);
        // Put the last writes of every slot in memory by applying only the tail of the run.
        model.Apply(ref writer, 0, counter - 100_000, counter);
        var report = model.Verify(ram, [counter]);
        Assert.True(report.IsExact, report.ToString());
    }

    [Fact]
    public void Verify_refuses_the_wrong_number_of_counters()
    {
        var s = ModelledRam.Run("seq:ws=64K", 10);
        Assert.Throws<ArgumentException>(() => s.Model.Verify(s.Ram, [10UL]));
    }
}
