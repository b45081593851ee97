using System.Runtime.InteropServices;

namespace Tern.Os.Native;

/// <summary>
/// zlib's <c>struct z_stream_s</c> on LP64 Linux (112 bytes; offsets checked against /usr/include/zlib.h by
/// ZStreamLayoutTests). <c>uInt</c> is 32 bits, <c>uLong</c> and pointers 64 bits.
/// </summary>
/// <remarks>
/// zlib's internal state keeps a pointer back to its <c>z_stream</c> and checks it on every call, so a
/// <c>ZStream</c> must never move: Tern keeps it in native memory (see <see cref="ZlibStreamHandle"/>).
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ZStream
{
    public byte* NextIn;
    public uint AvailIn;
    public nuint TotalIn;
    public byte* NextOut;
    public uint AvailOut;
    public nuint TotalOut;
    public byte* Msg;
    public nint State;
    public nint ZAlloc;
    public nint ZFree;
    public nint Opaque;
    public int DataType;
    public nuint Adler;
    public nuint Reserved;
}
