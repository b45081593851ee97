using Tern.Kvm.Tests.Layout;

namespace Tern.Kvm.Tests.Userfault;

/// <summary>
/// Compiles a small C program against this machine's <c>linux/userfaultfd.h</c> and runs it, so the tests compare
/// Tern's userfaultfd structs, ioctl numbers and constants with the real header (as Layout/CHeaderProbe does for
/// <c>linux/kvm.h</c>; a separate program so that a header missing on one machine does not hide the other).
/// </summary>
internal static class UserfaultHeaderProbe
{
    private static readonly Lazy<IReadOnlyDictionary<string, ulong>> Values = new(() => CProgramProbe.CompileAndRun(Program, "the userfaultfd header probe"));

    /// <summary>Asserts that Tern's value for a C name equals the header's, with a message naming both.</summary>
    public static void AssertMatches(string cName, ulong ternValue)
    {
        Assert.True(Values.Value.TryGetValue(cName, out ulong header), $"the C probe printed no value named {cName}");
        Assert.True(header == ternValue, $"{cName}: linux/userfaultfd.h says {header}, Tern uses {ternValue}");
    }

    private const string Program = """
        #include <sys/ioctl.h>
        #include <linux/userfaultfd.h>
        #include <poll.h>
        #include <stddef.h>
        #include <stdio.h>
        #define S(t) printf("sizeof_%s %zu\n", #t, sizeof(struct t));
        #define O(t, f, n) printf("offsetof_%s_%s %zu\n", #t, n, offsetof(struct t, f));
        #define V(n) printf("%s %llu\n", #n, (unsigned long long)(n));
        int main(void) {
          S(uffdio_api) S(uffdio_range) S(uffdio_register) S(uffdio_copy) S(uffdio_zeropage) S(uffdio_continue) S(uffd_msg) S(pollfd)
          O(uffdio_api, api, "api") O(uffdio_api, features, "features") O(uffdio_api, ioctls, "ioctls")
          O(uffdio_range, start, "start") O(uffdio_range, len, "len")
          O(uffdio_register, range, "range") O(uffdio_register, mode, "mode") O(uffdio_register, ioctls, "ioctls")
          O(uffdio_copy, dst, "dst") O(uffdio_copy, src, "src") O(uffdio_copy, len, "len") O(uffdio_copy, mode, "mode")
          O(uffdio_copy, copy, "copy")
          O(uffdio_zeropage, range, "range") O(uffdio_zeropage, mode, "mode") O(uffdio_zeropage, zeropage, "zeropage")
          O(uffdio_continue, range, "range") O(uffdio_continue, mode, "mode") O(uffdio_continue, mapped, "mapped")
          O(uffd_msg, event, "event") O(uffd_msg, arg.pagefault.flags, "pagefault_flags")
          O(uffd_msg, arg.pagefault.address, "pagefault_address") O(uffd_msg, arg.pagefault.feat.ptid, "pagefault_ptid")
          O(pollfd, fd, "fd") O(pollfd, events, "events") O(pollfd, revents, "revents")
          V(USERFAULTFD_IOC_NEW) V(UFFDIO_API) V(UFFDIO_REGISTER) V(UFFDIO_UNREGISTER) V(UFFDIO_WAKE) V(UFFDIO_COPY)
          V(UFFDIO_ZEROPAGE) V(_UFFDIO_REGISTER) V(_UFFDIO_UNREGISTER) V(_UFFDIO_WAKE) V(_UFFDIO_COPY) V(_UFFDIO_ZEROPAGE)
          V(_UFFDIO_API) V(UFFD_API) V(UFFDIO_REGISTER_MODE_MISSING) V(UFFDIO_COPY_MODE_DONTWAKE)
          V(UFFDIO_ZEROPAGE_MODE_DONTWAKE) V(UFFD_EVENT_PAGEFAULT) V(UFFD_PAGEFAULT_FLAG_WRITE)
          V(UFFD_FEATURE_MISSING_HUGETLBFS) V(UFFD_FEATURE_MISSING_SHMEM) V(UFFD_FEATURE_THREAD_ID) V(POLLIN)
          V(UFFDIO_CONTINUE) V(_UFFDIO_CONTINUE) V(UFFDIO_REGISTER_MODE_MINOR) V(UFFDIO_CONTINUE_MODE_DONTWAKE)
          V(UFFD_PAGEFAULT_FLAG_MINOR) V(UFFD_FEATURE_MINOR_SHMEM)
          return 0;
        }
        """;
}
