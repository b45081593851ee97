using Tern.Guest;
using Xunit;

namespace Tern.Machine.Tests.Guest;

public class EntryStateTests
{
    [Fact]
    public void Memory_workloads_enter_64_bit_mode_at_cpl3_with_the_register_contract()
    {
        var image = GuestFixtures.Build("seq:ws=16M", vcpus: 3);
        var layout = image.Layout!;
        Assert.Equal(3, image.Vcpus.Count);
        foreach (var state in image.Vcpus)
        {
            var v = layout.Vcpus[state.VcpuIndex];
            Assert.Equal(EntryMode.LongModeUser, state.Mode);
            Assert.Equal((ulong)v.Index, state.Registers.Rdi);
            Assert.Equal(v.ControlPage.Value, state.Registers.Rsi);
            Assert.Equal(layout.ParameterBlock.Value, state.Registers.Rdx);
            Assert.Equal(v.StackTop.Value, state.Registers.Rsp);
            Assert.Equal(image.Vcpus[0].Registers.Rip, state.Registers.Rip);
            Assert.Equal(0x2UL, state.Registers.Rflags); // IOPL 0: ports come from the TSS I/O bitmap
            Assert.Equal(0x80050033UL, state.Cr0);
            Assert.Equal(0x620UL, state.Cr4);
            Assert.Equal(0x500UL, state.Efer);
            Assert.Equal(layout.Pml4.Value, state.Cr3);
            Assert.Equal(new SegmentRecord(0x23, 0, 0xFFFFFFFF, 11, true, 3, false, true, true, true, false), state.Cs);
            foreach (var data in new[] { state.Ds, state.Es, state.Fs, state.Gs, state.Ss })
                Assert.Equal(new SegmentRecord(0x1B, 0, 0xFFFFFFFF, 3, true, 3, true, true, false, true, false), data);
            Assert.Equal(new SegmentRecord(v.TssSelector, v.Tss.Value, v.TssLimit, 11, true, 0, false, false, false, false, false), state.Tr);
            Assert.False(state.Ldt.Present);
            Assert.False(state.NeedsLapicTimer);
        }
        var code = GuestFixtures.Blob(image, "code");
        Assert.InRange(image.Vcpus[0].Registers.Rip, code.Address.Value, code.Address.Value + (ulong)code.Bytes.Length - 1);
        Assert.False(image.NeedsLapicTimer);
    }

    [Fact]
    public void Idle_enters_at_cpl0_and_needs_the_lapic_timer()
    {
        var image = GuestFixtures.Build("idle", vcpus: 2);
        foreach (var state in image.Vcpus)
        {
            Assert.Equal(EntryMode.LongModeKernel, state.Mode);
            Assert.Equal(0, state.Cs.Dpl);
            Assert.Equal(0x08, state.Cs.Selector);
            Assert.True(state.Cs.L);
            Assert.Equal(0x10, state.Ss.Selector);
            Assert.Equal(0, state.Ss.Dpl);
            Assert.Equal(0x2UL, state.Registers.Rflags);
            Assert.True(state.NeedsLapicTimer);
        }
        Assert.True(image.NeedsLapicTimer);
    }

    [Fact]
    public void Blobs_fit_in_ram_below_the_working_set_and_do_not_overlap()
    {
        var image = GuestFixtures.Build("hotcold:ws=16M,hot=2M", vcpus: 4);
        var layout = image.Layout!;
        var regions = image.Blobs.Select(b => b.Region).ToList();
        foreach (var r in regions) Assert.True(r.End <= layout.WorkingSet.Start, $"{r} reaches into the working set");
        for (int i = 0; i < regions.Count; i++)
            for (int j = i + 1; j < regions.Count; j++)
                Assert.False(regions[i].Overlaps(regions[j]), $"{regions[i]} overlaps {regions[j]}");
        Assert.Equal([GuestPorts.Heartbeat, GuestPorts.Panic, GuestPorts.SerialData, GuestPorts.SerialLineStatus], image.Ports);
    }

    [Fact]
    public void Copy_to_refuses_a_buffer_too_small_for_the_blobs()
    {
        var image = GuestFixtures.Build("seq:ws=16M");
        Assert.Throws<ArgumentException>(() => image.CopyTo(new byte[1 << 20]));
    }

    [Fact]
    public void Options_reject_implausible_values()
    {
        Assert.Contains("between 1 and 64", Assert.Throws<GuestConfigurationException>(() => new GuestBuildOptions(0, 2_400_000)).Message);
        Assert.Contains("give it in kHz", Assert.Throws<GuestConfigurationException>(() => new GuestBuildOptions(1, 2_400_000_000)).Message);
        Assert.Contains("give it in kHz", Assert.Throws<GuestConfigurationException>(() => new GuestBuildOptions(1, 2400)).Message);
    }
}
