using Microsoft.Win32.SafeHandles;

namespace Tern.Os.Native;

/// <summary>An owned <c>LZ4_stream_t*</c> (the fast compressor's state); freed with <c>LZ4_freeStream</c>.</summary>
internal sealed class Lz4StreamHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public Lz4StreamHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle() => Lz4Interop.LZ4_freeStream(handle) == 0;
}

/// <summary>An owned <c>LZ4_streamHC_t*</c> (the high-compression state); freed with <c>LZ4_freeStreamHC</c>.</summary>
internal sealed class Lz4HighCompressionStreamHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public Lz4HighCompressionStreamHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle() => Lz4Interop.LZ4_freeStreamHC(handle) == 0;
}
