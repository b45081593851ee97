using System.Runtime.InteropServices;
using Tern.Os;
using Tern.Os.Libc;
using Tern.Os.Userfault;

namespace Tern.Kvm.Tests.Userfault;

/// <summary>Every userfaultfd struct, ioctl number and constant Tern uses matches <c>linux/userfaultfd.h</c>.</summary>
public sealed class UserfaultLayoutTests
{
    public static TheoryData<string, Type> Structs => new()
    {
        { "uffdio_api", typeof(UffdioApi) },
        { "uffdio_range", typeof(UffdioRange) },
        { "uffdio_register", typeof(UffdioRegister) },
        { "uffdio_copy", typeof(UffdioCopy) },
        { "uffdio_zeropage", typeof(UffdioZeropage) },
        { "uffdio_continue", typeof(UffdioContinue) },
        { "uffd_msg", typeof(UffdMsg) },
        { "pollfd", typeof(PollFd) },
    };

    [Theory]
    [MemberData(nameof(Structs))]
    public void Size_matches_the_header(string cName, Type type) =>
        UserfaultHeaderProbe.AssertMatches($"sizeof_{cName}", (ulong)Marshal.SizeOf(type));

    [Fact]
    public void The_sizes_the_notes_measured_hold() // a second, independent source for the two that matter most
    {
        Assert.Equal(32, Marshal.SizeOf<UffdMsg>());
        Assert.Equal(40, Marshal.SizeOf<UffdioCopy>());
    }

    [Theory]
    [InlineData("uffdio_api", "api", typeof(UffdioApi), nameof(UffdioApi.Api))]
    [InlineData("uffdio_api", "features", typeof(UffdioApi), nameof(UffdioApi.Features))]
    [InlineData("uffdio_api", "ioctls", typeof(UffdioApi), nameof(UffdioApi.Ioctls))]
    [InlineData("uffdio_range", "start", typeof(UffdioRange), nameof(UffdioRange.Start))]
    [InlineData("uffdio_range", "len", typeof(UffdioRange), nameof(UffdioRange.Len))]
    [InlineData("uffdio_register", "range", typeof(UffdioRegister), nameof(UffdioRegister.Range))]
    [InlineData("uffdio_register", "mode", typeof(UffdioRegister), nameof(UffdioRegister.Mode))]
    [InlineData("uffdio_register", "ioctls", typeof(UffdioRegister), nameof(UffdioRegister.Ioctls))]
    [InlineData("uffdio_copy", "dst", typeof(UffdioCopy), nameof(UffdioCopy.Dst))]
    [InlineData("uffdio_copy", "src", typeof(UffdioCopy), nameof(UffdioCopy.Src))]
    [InlineData("uffdio_copy", "len", typeof(UffdioCopy), nameof(UffdioCopy.Len))]
    [InlineData("uffdio_copy", "mode", typeof(UffdioCopy), nameof(UffdioCopy.Mode))]
    [InlineData("uffdio_copy", "copy", typeof(UffdioCopy), nameof(UffdioCopy.Copy))]
    [InlineData("uffdio_zeropage", "range", typeof(UffdioZeropage), nameof(UffdioZeropage.Range))]
    [InlineData("uffdio_zeropage", "mode", typeof(UffdioZeropage), nameof(UffdioZeropage.Mode))]
    [InlineData("uffdio_zeropage", "zeropage", typeof(UffdioZeropage), nameof(UffdioZeropage.Zeropage))]
    [InlineData("uffdio_continue", "range", typeof(UffdioContinue), nameof(UffdioContinue.Range))]
    [InlineData("uffdio_continue", "mode", typeof(UffdioContinue), nameof(UffdioContinue.Mode))]
    [InlineData("uffdio_continue", "mapped", typeof(UffdioContinue), nameof(UffdioContinue.Mapped))]
    [InlineData("uffd_msg", "event", typeof(UffdMsg), nameof(UffdMsg.Event))]
    [InlineData("uffd_msg", "pagefault_flags", typeof(UffdMsg), nameof(UffdMsg.PagefaultFlags))]
    [InlineData("uffd_msg", "pagefault_address", typeof(UffdMsg), nameof(UffdMsg.PagefaultAddress))]
    [InlineData("uffd_msg", "pagefault_ptid", typeof(UffdMsg), nameof(UffdMsg.PagefaultPtid))]
    [InlineData("pollfd", "fd", typeof(PollFd), nameof(PollFd.Fd))]
    [InlineData("pollfd", "events", typeof(PollFd), nameof(PollFd.Events))]
    [InlineData("pollfd", "revents", typeof(PollFd), nameof(PollFd.ReturnedEvents))]
    public void Field_offset_matches_the_header(string cStruct, string cField, Type type, string field) =>
        UserfaultHeaderProbe.AssertMatches($"offsetof_{cStruct}_{cField}", (ulong)Marshal.OffsetOf(type, field));

    [Fact]
    public void Ioctl_numbers_match_the_header()
    {
        UserfaultHeaderProbe.AssertMatches("USERFAULTFD_IOC_NEW", UserfaultIoctls.New);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_API", UserfaultIoctls.Api);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_REGISTER", UserfaultIoctls.Register);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_UNREGISTER", UserfaultIoctls.Unregister);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_WAKE", UserfaultIoctls.Wake);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_COPY", UserfaultIoctls.Copy);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_ZEROPAGE", UserfaultIoctls.ZeroPage);
        UserfaultHeaderProbe.AssertMatches("_UFFDIO_REGISTER", UserfaultIoctls.RegisterNumber);
        UserfaultHeaderProbe.AssertMatches("_UFFDIO_UNREGISTER", UserfaultIoctls.UnregisterNumber);
        UserfaultHeaderProbe.AssertMatches("_UFFDIO_WAKE", UserfaultIoctls.WakeNumber);
        UserfaultHeaderProbe.AssertMatches("_UFFDIO_COPY", UserfaultIoctls.CopyNumber);
        UserfaultHeaderProbe.AssertMatches("_UFFDIO_ZEROPAGE", UserfaultIoctls.ZeroPageNumber);
        UserfaultHeaderProbe.AssertMatches("_UFFDIO_API", UserfaultIoctls.ApiNumber);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_CONTINUE", UserfaultIoctls.Continue);
        UserfaultHeaderProbe.AssertMatches("_UFFDIO_CONTINUE", UserfaultIoctls.ContinueNumber);
    }

    [Fact]
    public void Constants_match_the_header()
    {
        UserfaultHeaderProbe.AssertMatches("UFFD_API", UserfaultIoctls.ApiVersion);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_REGISTER_MODE_MISSING", UserfaultIoctls.RegisterModeMissing);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_COPY_MODE_DONTWAKE", UserfaultIoctls.CopyModeDontWake);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_ZEROPAGE_MODE_DONTWAKE", UserfaultIoctls.ZeroPageModeDontWake);
        UserfaultHeaderProbe.AssertMatches("UFFD_EVENT_PAGEFAULT", UserfaultIoctls.EventPagefault);
        UserfaultHeaderProbe.AssertMatches("UFFD_PAGEFAULT_FLAG_WRITE", UserfaultIoctls.PagefaultFlagWrite);
        UserfaultHeaderProbe.AssertMatches("UFFD_FEATURE_MISSING_HUGETLBFS", (ulong)UserfaultFeatures.MissingHugetlbfs);
        UserfaultHeaderProbe.AssertMatches("UFFD_FEATURE_MISSING_SHMEM", (ulong)UserfaultFeatures.MissingShmem);
        UserfaultHeaderProbe.AssertMatches("UFFD_FEATURE_THREAD_ID", (ulong)UserfaultFeatures.ThreadId);
        UserfaultHeaderProbe.AssertMatches("POLLIN", (ulong)LibCConstants.POLLIN);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_REGISTER_MODE_MINOR", UserfaultIoctls.RegisterModeMinor);
        UserfaultHeaderProbe.AssertMatches("UFFDIO_CONTINUE_MODE_DONTWAKE", UserfaultIoctls.ContinueModeDontWake);
        UserfaultHeaderProbe.AssertMatches("UFFD_PAGEFAULT_FLAG_MINOR", UserfaultIoctls.PagefaultFlagMinor);
        UserfaultHeaderProbe.AssertMatches("UFFD_FEATURE_MINOR_SHMEM", (ulong)UserfaultFeatures.MinorShmem);
    }
}
