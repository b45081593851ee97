using Tern.Os.Userfault;

namespace Tern.Kvm.Tests.Userfault;

/// <summary>UFFDIO_COPY serves a missing page: the faulting access resumes and sees exactly the bytes served.</summary>
public sealed class UserfaultCopyTests
{
    [Fact]
    public void A_missing_page_touched_by_the_kernel_is_served_by_Copy_and_the_toucher_sees_the_bytes()
    {
        using var memory = new RegisteredMemory();
        var toucher = memory.Touch(page: 2);
        var fault = memory.NextFault();
        Assert.Equal((ulong)memory.PageAddress(2), fault.Address);
        Assert.False(fault.IsWrite); // pwrite reads the page
        Assert.False(toucher.Finished);

        var served = RegisteredMemory.Pattern(seed: 2);
        Assert.Equal(PagePlacement.Placed, memory.Uffd.Copy(memory.PageAddress(2), served));

        Assert.True(toucher.WaitForCompletion(RegisteredMemory.Patience), "the toucher was not woken by UFFDIO_COPY");
        Assert.Null(toucher.Failure);
        Assert.Equal(served, toucher.FileContents());
        Assert.Equal(served, memory.MemfdPage(2));
    }

    [Fact]
    public void A_write_fault_is_flagged_and_carries_the_faulting_thread_id_when_asked_for()
    {
        using var memory = new RegisteredMemory(UserfaultFeatures.MissingShmem | UserfaultFeatures.ThreadId);
        Assert.True(memory.Uffd.Features.HasFlag(UserfaultFeatures.ThreadId));
        var toucher = memory.Touch(page: 1, KernelToucher.Access.WritesPage, fileFill: 0x5A);
        var fault = memory.NextFault();
        Assert.True(fault.IsWrite); // pread writes into the page
        Assert.Equal(toucher.ThreadId, fault.ThreadId);

        memory.Uffd.Copy(memory.PageAddress(1), RegisteredMemory.Pattern(seed: 1));
        Assert.True(toucher.WaitForCompletion(RegisteredMemory.Patience));
        Assert.Null(toucher.Failure);
        Assert.All(memory.MemfdPage(1), b => Assert.Equal(0x5A, b)); // the pread's bytes landed on the served page
    }

    [Fact]
    public void Copy_onto_a_page_already_present_reports_it_and_leaves_the_page_alone()
    {
        using var memory = new RegisteredMemory();
        var first = RegisteredMemory.Pattern(seed: 10);
        Assert.Equal(PagePlacement.Placed, memory.Uffd.Copy(memory.PageAddress(0), first));
        Assert.Equal(PagePlacement.SomeAlreadyPresent, memory.Uffd.Copy(memory.PageAddress(0), RegisteredMemory.Pattern(seed: 11)));
        Assert.Equal(first, memory.MemfdPage(0));
    }

    [Fact]
    public void A_multi_page_Copy_over_a_present_page_places_the_others()
    {
        using var memory = new RegisteredMemory();
        var present = RegisteredMemory.Pattern(seed: 20);
        memory.Uffd.Copy(memory.PageAddress(1), present);
        var three = new byte[3 * RegisteredMemory.PageSize];
        new Random(21).NextBytes(three);

        Assert.Equal(PagePlacement.SomeAlreadyPresent, memory.Uffd.Copy(memory.PageAddress(0), three));

        int page = RegisteredMemory.PageSize;
        Assert.Equal(three[..page], memory.MemfdPage(0));
        Assert.Equal(present, memory.MemfdPage(1));
        Assert.Equal(three[(2 * page)..], memory.MemfdPage(2));
    }

    [Fact]
    public void A_Copy_without_wake_leaves_the_toucher_waiting_until_Wake()
    {
        using var memory = new RegisteredMemory();
        var toucher = memory.Touch(page: 3);
        memory.NextFault();
        var served = RegisteredMemory.Pattern(seed: 3);
        memory.Uffd.Copy(memory.PageAddress(3), served, wake: false);

        // Only the direction that cannot flake is asserted: if it finished, DONTWAKE was ignored.
        Assert.False(toucher.WaitForCompletion(TimeSpan.FromMilliseconds(200)), "the toucher resumed although the copy asked not to wake it");
        memory.Uffd.Wake(memory.PageAddress(3), (ulong)RegisteredMemory.PageSize);

        Assert.True(toucher.WaitForCompletion(RegisteredMemory.Patience), "UFFDIO_WAKE did not resume the toucher");
        Assert.Null(toucher.Failure);
        Assert.Equal(served, toucher.FileContents());
    }

    [Fact]
    public void Ranges_that_are_not_whole_pages_are_refused_before_the_kernel_sees_them()
    {
        using var memory = new RegisteredMemory();
        var e = Assert.Throws<ArgumentException>(() => memory.Uffd.Copy(memory.PageAddress(0) + 8, RegisteredMemory.Pattern(1)));
        Assert.Contains("whole", e.Message);
        Assert.Throws<ArgumentException>(() => memory.Uffd.Copy(memory.PageAddress(0), new byte[100]));
        Assert.Throws<ArgumentException>(() => memory.Uffd.ZeroPage(memory.PageAddress(0), 0));
        Assert.Throws<ArgumentException>(() => memory.Uffd.Register(memory.PageAddress(0) + 1, 4096));
    }
}
