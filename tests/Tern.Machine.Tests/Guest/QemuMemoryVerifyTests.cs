using Tern.Guest;
using Tern.Guest.Multiboot;
using Tern.Memory;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>
/// Runs a workload for real under QEMU/KVM, pauses it, dumps guest memory and checks every byte of the working
/// set against the reference model at the counter the guest stored: the generated code and the model agree.
/// </summary>
[Collection(QemuCollection.Name)]
public class QemuMemoryVerifyTests
{
    private const ulong Ram = 64UL << 20;

    [Theory]
    [InlineData("stride")]
    [InlineData("seq:ws=16M")]
    [InlineData("random:ws=16M,seed=99")]
    [InlineData("hotcold:ws=16M,hot=2M,p=0.8")]
    public void Guest_memory_matches_the_model_at_the_stored_counter(string text)
    {
        QemuGuest.SkipIfUnavailable();
        var spec = WorkloadSpec.Parse(text);
        using var qemu = QemuGuest.Boot(spec, out var image);
        var layout = image.Layout!;
        Thread.Sleep(1000);
        qemu.Pause();
        byte[] memory = qemu.DumpMemory(Ram);

        var model = new WorkloadModel(layout);
        ulong[] counters = model.ReadCounters(memory);
        Assert.True(counters[0] > layout.WorkingSet.PageCount, $"only {counters[0]} writes in a second");
        var report = model.Verify(memory, counters);
        Assert.True(report.IsExact, report.ToString());

        if (spec.Kind != WorkloadKind.Stride) // stride's bytes wrap to zero every 256 passes
        {
            var expected = model.ExpectedWorkingSet(counters);
            for (ulong p = 0; p < layout.WorkingSet.PageCount; p++)
            {
                var page = new PageIndex(layout.WorkingSet.FirstPage.Value + p);
                bool data = memory.AsSpan((int)page.Address.Value, PageSize.Bytes).ContainsAnyExcept((byte)0);
                if (data != expected.Contains(page))
                    Assert.True(report.InFlightWriteApplied[0] && model.WriteTarget(0, counters[0]).Page == page, $"{page}: data {data}, expected {expected.Contains(page)}");
            }
        }
    }

    [Fact]
    public void The_guest_writes_nothing_outside_the_working_set_but_its_control_page_stacks_and_tss_busy_bit()
    {
        QemuGuest.SkipIfUnavailable();
        using var qemu = QemuGuest.Boot(WorkloadSpec.Parse("random:ws=16M"), out var image);
        var layout = image.Layout!;
        Thread.Sleep(500);
        qemu.Pause();
        byte[] memory = qemu.DumpMemory(Ram);
        byte[] built = GuestFixtures.Ram(image);

        for (ulong gpa = GuestLayout.SystemBase; gpa < layout.BootInfo.Value; gpa += PageSize.Bytes)
        {
            var page = new GuestAddress(gpa).Page;
            if (layout.IsWrittenOutsideWorkingSet(page) && page != layout.Gdt.Page && page != layout.PageTables.FirstPage) continue;
            var actual = memory.AsSpan((int)gpa, PageSize.Bytes);
            var expected = built.AsSpan((int)gpa, PageSize.Bytes).ToArray();
            if (page == layout.Gdt.Page) expected[layout.Vcpus[0].TssSelector + 5] |= 0x02; // ltr marks the TSS busy
            Assert.True(actual.SequenceEqual(expected), $"page 0x{gpa:x} changed");
        }
    }
}
