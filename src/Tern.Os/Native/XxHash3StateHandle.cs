using Microsoft.Win32.SafeHandles;

namespace Tern.Os.Native;

/// <summary>An owned <c>XXH3_state_t*</c> (allocated 64-byte aligned by libxxhash); freed with <c>XXH3_freeState</c>.</summary>
internal sealed class XxHash3StateHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public XxHash3StateHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle() => XxHashInterop.XXH3_freeState(handle) == XxHashInterop.Ok;
}
