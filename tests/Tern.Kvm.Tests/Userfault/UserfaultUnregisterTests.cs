namespace Tern.Kvm.Tests.Userfault;

/// <summary>After UFFDIO_UNREGISTER the kernel fills missing pages itself: no server is needed.</summary>
public sealed class UserfaultUnregisterTests
{
    [Fact]
    public void A_touch_after_Unregister_completes_with_no_server()
    {
        using var memory = new RegisteredMemory();
        memory.Uffd.Unregister(memory.Mapping.Address, memory.Mapping.Length);

        var toucher = memory.Touch(page: 1, fileFill: 0xFF);

        Assert.True(toucher.WaitForCompletion(RegisteredMemory.Patience), "the touch blocked: the range is still registered");
        Assert.Null(toucher.Failure);
        Assert.All(toucher.FileContents(), b => Assert.Equal(0, b)); // a fresh memfd page
        Assert.False(memory.Uffd.WaitForMessage(0), "a fault message was queued for an unregistered range");
    }

    [Fact]
    public void Unregistering_part_of_the_range_leaves_the_rest_registered()
    {
        using var memory = new RegisteredMemory();
        memory.Uffd.Unregister(memory.PageAddress(0), (ulong)RegisteredMemory.PageSize);

        Assert.True(memory.Touch(page: 0).WaitForCompletion(RegisteredMemory.Patience));
        var stillRegistered = memory.Touch(page: 3);
        Assert.Equal((ulong)memory.PageAddress(3), memory.NextFault().Address);
        memory.Uffd.ZeroPage(memory.PageAddress(3), (ulong)RegisteredMemory.PageSize);
        Assert.True(stillRegistered.WaitForCompletion(RegisteredMemory.Patience));
    }
}
