using System.Runtime.InteropServices;

namespace Tern.Os.Native;

/// <summary>
/// Owns a <see cref="ZStream"/> in native memory (zlib requires it not to move) set up for deflate or for inflate,
/// and ends it with <c>deflateEnd</c>/<c>inflateEnd</c> before freeing the memory.
/// </summary>
internal sealed unsafe class ZlibStreamHandle : SafeHandle
{
    private readonly bool _forDeflate;

    private ZlibStreamHandle(bool forDeflate) : base(nint.Zero, ownsHandle: true) => _forDeflate = forDeflate;

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>The stream; valid while the handle is open (callers check <see cref="SafeHandle.IsClosed"/>).</summary>
    public ZStream* Stream => (ZStream*)handle;

    /// <summary>
    /// Runs deflate or inflate (whichever this stream was made for) once with <c>Z_FINISH</c> over all of
    /// <paramref name="source"/> into <paramref name="destination"/>; returns zlib's code.
    /// </summary>
    public int Finish(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var z = Stream;
        // The spans are pinned for the call; zlib reads avail_in bytes and writes at most avail_out bytes, and the
        // stream's pointers are cleared before the pins end, so nothing keeps them.
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            z->NextIn = src;
            z->AvailIn = (uint)source.Length;
            z->NextOut = dst;
            z->AvailOut = (uint)destination.Length;
            int code = _forDeflate ? ZlibInterop.deflate(z, ZlibInterop.Finish) : ZlibInterop.inflate(z, ZlibInterop.Finish);
            z->NextIn = null;
            z->NextOut = null;
            return code;
        }
    }

    public static ZlibStreamHandle CreateDeflate(int level)
    {
        var owner = new ZlibStreamHandle(forDeflate: true);
        // Zeroed memory means zalloc/zfree/opaque are Z_NULL: zlib uses malloc and free.
        var stream = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
        var code = ZlibInterop.deflateInit2_(stream, level, ZlibInterop.Deflated, ZlibInterop.WindowBits,
            ZlibInterop.DefaultMemoryLevel, ZlibInterop.DefaultStrategy, ZlibInterop.zlibVersion(), sizeof(ZStream));
        if (code != ZlibInterop.Ok) FailInit(stream, code, "deflateInit2");
        owner.SetHandle((nint)stream);
        return owner;
    }

    public static ZlibStreamHandle CreateInflate()
    {
        var owner = new ZlibStreamHandle(forDeflate: false);
        var stream = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
        var code = ZlibInterop.inflateInit2_(stream, ZlibInterop.WindowBits, ZlibInterop.zlibVersion(), sizeof(ZStream));
        if (code != ZlibInterop.Ok) FailInit(stream, code, "inflateInit2");
        owner.SetHandle((nint)stream);
        return owner;
    }

    protected override bool ReleaseHandle()
    {
        var stream = (ZStream*)handle;
        // End returns Z_DATA_ERROR when a stream is freed mid-way; the memory is released either way.
        _ = _forDeflate ? ZlibInterop.deflateEnd(stream) : ZlibInterop.inflateEnd(stream);
        NativeMemory.Free(stream);
        return true;
    }

    private static void FailInit(ZStream* stream, int code, string call)
    {
        var reason = ZlibInterop.Describe(stream, code);
        NativeMemory.Free(stream);
        if (code == ZlibInterop.MemoryError) throw new OutOfMemoryException($"zlib: {call} could not allocate its state");
        throw new NativeCodecException("zlib", code == ZlibInterop.VersionError
            ? $"{call} refused the stream: incompatible zlib version or z_stream layout ({reason})"
            : $"{call} failed: {reason}");
    }
}
