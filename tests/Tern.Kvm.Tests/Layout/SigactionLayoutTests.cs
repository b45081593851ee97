using System.Runtime.InteropServices;
using Tern.Os;
using Tern.Os.Libc;

namespace Tern.Kvm.Tests.Layout;

/// <summary>The glibc <c>struct sigaction</c> Tern passes to install the vCPU kick handler matches the C library's.</summary>
public sealed class SigactionLayoutTests
{
    [Fact]
    public void Sigaction_layout_matches_glibc()
    {
        CHeaderProbe.AssertMatches("sizeof_sigaction", (ulong)Marshal.SizeOf<SigactionStruct>());
        CHeaderProbe.AssertMatches("offsetof_sigaction_sa_mask", (ulong)Marshal.OffsetOf<SigactionStruct>(nameof(SigactionStruct.Mask)));
        CHeaderProbe.AssertMatches("offsetof_sigaction_sa_flags", (ulong)Marshal.OffsetOf<SigactionStruct>(nameof(SigactionStruct.Flags)));
        CHeaderProbe.AssertMatches("offsetof_sigaction_sa_restorer", (ulong)Marshal.OffsetOf<SigactionStruct>(nameof(SigactionStruct.Restorer)));
        CHeaderProbe.AssertMatches("SIGUSR1", (ulong)KickSignal.Number);
    }
}
