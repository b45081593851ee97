using Microsoft.Win32.SafeHandles;

namespace Tern.Os.Native;

/// <summary>An owned <c>ZSTD_CCtx*</c>; freed with <c>ZSTD_freeCCtx</c>.</summary>
internal sealed class ZstdCompressionContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ZstdCompressionContextHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle() => ZstdInterop.ZSTD_freeCCtx(handle) == 0;
}

/// <summary>An owned <c>ZSTD_DCtx*</c>; freed with <c>ZSTD_freeDCtx</c>.</summary>
internal sealed class ZstdDecompressionContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ZstdDecompressionContextHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle() => ZstdInterop.ZSTD_freeDCtx(handle) == 0;
}
