using System.Runtime.InteropServices;

namespace Tern.Os.Native;

/// <summary>XXH3-64 from libxxhash 0.8 (Debian's libxxhash0): one-shot and streaming.</summary>
internal static unsafe partial class XxHashInterop
{
    public const string Library = "libxxhash.so.0";

    /// <summary><c>XXH_OK</c>; anything else is <c>XXH_ERROR</c>.</summary>
    public const int Ok = 0;

    [LibraryImport(Library)]
    public static partial ulong XXH3_64bits_withSeed(byte* input, nuint length, ulong seed);

    [LibraryImport(Library)]
    public static partial XxHash3StateHandle XXH3_createState();

    [LibraryImport(Library)]
    public static partial int XXH3_freeState(nint state);

    [LibraryImport(Library)]
    public static partial int XXH3_64bits_reset_withSeed(XxHash3StateHandle state, ulong seed);

    [LibraryImport(Library)]
    public static partial int XXH3_64bits_update(XxHash3StateHandle state, byte* input, nuint length);

    [LibraryImport(Library)]
    public static partial ulong XXH3_64bits_digest(XxHash3StateHandle state);
}
