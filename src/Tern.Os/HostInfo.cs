using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>Facts about the host that Tern sizes things by.</summary>
public static class HostInfo
{
    public static int PageSize => (int)LibC.Sysconf(LibCConstants._SC_PAGESIZE);
}
