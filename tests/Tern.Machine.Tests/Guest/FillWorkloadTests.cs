using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Memory;

namespace Tern.Machine.Tests.Guest;

/// <summary>fill: one pass of seq, then nothing: its spec, its model and the simulated backend.</summary>
public sealed class FillWorkloadTests
{
    [Theory]
    [InlineData("fill:ws=1022M")]
    [InlineData("fill:ws=64M,content=mixed")]
    [InlineData("fill:ws=8M,rate=100,seed=7")]
    public void Parses_and_prints_back(string text)
    {
        var spec = WorkloadSpec.Parse(text);
        Assert.Equal(WorkloadKind.Fill, spec.Kind);
        Assert.Equal(text, spec.ToString());
    }

    [Fact]
    public void Without_a_working_set_it_is_refused_with_an_example()
    {
        var e = Assert.Throws<FormatException>(() => WorkloadSpec.Parse("fill"));
        Assert.Contains("fill needs ws=SIZE", e.Message);
    }

    [Theory]
    [InlineData("", 2)]
    [InlineData(",content=mixed", 2)]
    [InlineData(",content=mixed", 1)]
    public void The_model_writes_seqs_first_pass_and_stops_its_counter_there(string options, int vcpus)
    {
        var fill = GuestFixtures.Build("fill:ws=256K" + options, vcpus: vcpus);
        var seq = GuestFixtures.Build("seq:ws=256K" + options, vcpus: vcpus);
        var fillModel = new WorkloadModel(fill.Layout!);
        var seqModel = new WorkloadModel(seq.Layout!);
        byte[] fillRam = GuestFixtures.Ram(fill), seqRam = GuestFixtures.Ram(seq);
        for (int v = 0; v < vcpus; v++)
        {
            ulong slice = fill.Layout!.Vcpus[v].Slice.RegionAPages;
            fillModel.Apply(fillRam, v, 0, 10 * slice); // asked for ten passes: does one
            seqModel.Apply(seqRam, v, 0, slice);
        }
        var counters = fillModel.ReadCounters(fillRam);
        Assert.Equal(fill.Layout!.Vcpus.Select(v => v.Slice.RegionAPages), counters);
        var ws = fill.Layout.WorkingSet;
        Assert.True(fillRam.AsSpan((int)ws.Start.Value, (int)ws.Length).SequenceEqual(seqRam.AsSpan((int)ws.Start.Value, (int)ws.Length)),
            "fill's working set is seq's after one pass");
        Assert.True(fillModel.Verify(fillRam, counters).IsExact);
        Assert.Equal((ulong)fillModel.ExpectedWorkingSet(counters).ToArray().Length, ws.PageCount);
        Assert.Empty(fillModel.PagesWritten(0, counters[0], 10 * counters[0]).ToArray());
    }

    [Fact]
    public void The_simulated_guest_fills_once_and_then_only_heartbeats()
    {
        using var machine = SimMachine.Create(new SimMachineOptions(64UL << 20, 2, GuestWorkload.Parse("fill:ws=16M")));
        ulong[] slices = machine.Model.Layout.Vcpus.Select(v => v.Slice.RegionAPages).ToArray();
        machine.Resume();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline && !machine.ReadCounters().SequenceEqual(slices)) Thread.Sleep(10);
        long beats = machine.Heartbeats.Count(0);
        while (DateTime.UtcNow < deadline && machine.Heartbeats.Count(0) < beats + 20) Thread.Sleep(10);
        machine.Pause();
        Assert.Equal(slices, machine.ReadCounters());
        Assert.True(machine.Heartbeats.Count(0) >= beats + 20, "the resting vCPU heartbeats");
        Assert.True(machine.Model.Verify(machine.Memory.GetSpan(GuestAddress.Zero, 64 << 20), machine.ReadCounters()).IsExact);
    }
}
