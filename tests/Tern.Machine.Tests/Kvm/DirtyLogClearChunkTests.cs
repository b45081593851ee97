using Tern.Machine.Kvm;

namespace Tern.Machine.Tests.Kvm;

/// <summary>Re-protecting the dirty log in small KVM_CLEAR_DIRTY_LOG chunks loses no page at the chunk boundaries.</summary>
[Collection(KvmCollection.Name)]
public sealed class DirtyLogClearChunkTests
{
    [Theory]
    [InlineData(1)] // 64 pages a CLEAR
    [InlineData(3)] // boundaries that do not divide the regions: the last chunk of a run is partial
    public void Small_clear_chunks_report_every_page_pass_after_pass(int words)
    {
        RequireKvm.Present();
        const ulong memory = 32 << 20;
        var guest = new CounterGuest(2, 4 << 20, memory);
        using var machine = KvmMachine.Create(new KvmMachineOptions(memory, 2) { DirtyLogClearWords = words });
        machine.Load(guest.Build());
        machine.Resume();
        MachineWait.Until(() => machine.Heartbeats.TotalCount > 4, TimeSpan.FromSeconds(10), "heartbeats");
        machine.DirtyTracker.Start();
        DirtyPassCheck.AssertWholePassesReported(machine, guest);
        // Again: pages are reported only if the chunked CLEAR re-armed write protection on every one of them.
        machine.Resume();
        DirtyPassCheck.AssertWholePassesReported(machine, guest);
        machine.DirtyTracker.Stop();
    }

    [Fact]
    public void A_clear_chunk_below_one_word_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new KvmMachineOptions(16 << 20, 1) { DirtyLogClearWords = 0 });
        Assert.Contains("at least one word", e.Message);
    }
}
