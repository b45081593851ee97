using Tern.Os.Libc;

namespace Tern.Kvm.Tests.Layout;

/// <summary>
/// What Tern.Os's unix socket helpers (<c>socketpair</c>, <c>statx</c>) pass to and read from the C library matches this
/// machine's headers: the <c>struct statx</c> offsets read and the flags and constants given.
/// </summary>
public sealed class UnixSocketBindingLayoutTests
{
    private const string Program = """
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <stddef.h>
        #include <stdio.h>
        #include <sys/socket.h>
        #include <sys/stat.h>
        #define V(n) printf("%s %llu\n", #n, (unsigned long long)(n));
        #define N(name, n) printf("%s %llu\n", name, (unsigned long long)(n));
        int main(void) {
          N("sizeof_statx", sizeof(struct statx)) N("offsetof_statx_stx_mode", offsetof(struct statx, stx_mode))
          N("minus_AT_FDCWD", -AT_FDCWD) V(AT_SYMLINK_NOFOLLOW) V(STATX_TYPE) V(S_IFMT) V(S_IFSOCK)
          V(AF_UNIX) V(SOCK_STREAM) V(SOCK_CLOEXEC)
          return 0;
        }
        """;

    private static readonly Lazy<IReadOnlyDictionary<string, ulong>> Values = new(() => CProgramProbe.CompileAndRun(Program, "the statx and socket header probe"));

    [Theory]
    [InlineData("sizeof_statx", StatxOffsets.Size)]
    [InlineData("offsetof_statx_stx_mode", StatxOffsets.Mode)]
    [InlineData("minus_AT_FDCWD", -LibCConstants.AT_FDCWD)]
    [InlineData("AT_SYMLINK_NOFOLLOW", LibCConstants.AT_SYMLINK_NOFOLLOW)]
    [InlineData("STATX_TYPE", (int)LibCConstants.STATX_TYPE)]
    [InlineData("S_IFMT", LibCConstants.S_IFMT)]
    [InlineData("S_IFSOCK", LibCConstants.S_IFSOCK)]
    [InlineData("AF_UNIX", LibCConstants.AF_UNIX)]
    [InlineData("SOCK_STREAM", LibCConstants.SOCK_STREAM)]
    [InlineData("SOCK_CLOEXEC", LibCConstants.SOCK_CLOEXEC)]
    public void Matches_the_C_headers(string name, int tern)
    {
        ulong header = Values.Value[name];
        Assert.True(header == (ulong)tern, $"{name}: the C headers say {header}, Tern uses {tern}");
    }
}
