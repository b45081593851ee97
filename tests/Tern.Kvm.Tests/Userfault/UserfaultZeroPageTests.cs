using Tern.Os.Userfault;

namespace Tern.Kvm.Tests.Userfault;

/// <summary>UFFDIO_ZEROPAGE serves a missing page as zeros without copying any.</summary>
public sealed class UserfaultZeroPageTests
{
    [Fact]
    public void A_missing_page_served_by_ZeroPage_reads_as_zeros()
    {
        using var memory = new RegisteredMemory();
        Assert.True(memory.Registration.CanZeroPage, "memfd ranges offer UFFDIO_ZEROPAGE");
        var toucher = memory.Touch(page: 0, fileFill: 0xFF); // the file starts as 0xFF so zeros must come from the page
        var fault = memory.NextFault();
        Assert.Equal((ulong)memory.PageAddress(0), fault.Address);

        Assert.Equal(PagePlacement.Placed, memory.Uffd.ZeroPage(memory.PageAddress(0), (ulong)RegisteredMemory.PageSize));

        Assert.True(toucher.WaitForCompletion(RegisteredMemory.Patience), "the toucher was not woken by UFFDIO_ZEROPAGE");
        Assert.Null(toucher.Failure);
        Assert.All(toucher.FileContents(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void ZeroPage_onto_a_page_already_present_reports_it_and_keeps_its_bytes()
    {
        using var memory = new RegisteredMemory();
        var present = RegisteredMemory.Pattern(seed: 4);
        memory.Uffd.Copy(memory.PageAddress(2), present);
        Assert.Equal(PagePlacement.SomeAlreadyPresent, memory.Uffd.ZeroPage(memory.PageAddress(2), (ulong)RegisteredMemory.PageSize));
        Assert.Equal(present, memory.MemfdPage(2));
    }
}
