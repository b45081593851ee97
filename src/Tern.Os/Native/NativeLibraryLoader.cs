using System.Runtime.InteropServices;

namespace Tern.Os.Native;

/// <summary>
/// Checks that a native library can be loaded before Tern first calls into it, so that a missing library is reported
/// as a <see cref="NativeLibraryMissingException"/> naming the package to install rather than as the runtime's
/// bare <see cref="DllNotFoundException"/> deep inside a worker thread.
/// </summary>
public static class NativeLibraryLoader
{
    /// <summary>Throws <see cref="NativeLibraryMissingException"/> unless <paramref name="library"/> loads.</summary>
    /// <remarks>
    /// Uses the same lookup as <c>LibraryImport</c> (the soname through the system loader). The probe handle is freed
    /// again: the runtime keeps its own handle once the first import is bound, and dlopen counts references.
    /// Called when a context is created, not per call.
    /// </remarks>
    public static void Require(NativeLibraryInfo library)
    {
        ArgumentNullException.ThrowIfNull(library);
        if (!NativeLibrary.TryLoad(library.FileName, out var handle)) throw new NativeLibraryMissingException(library);
        NativeLibrary.Free(handle);
    }

    /// <summary>
    /// Turns the runtime's load-time failures into <see cref="NativeLibraryMissingException"/>; returns null for any
    /// other exception (which the caller rethrows unchanged). For hot static entry points that cannot afford
    /// <see cref="Require"/> on every call.
    /// </summary>
    internal static NativeLibraryMissingException? Translate(NativeLibraryInfo library, Exception exception) =>
        exception is DllNotFoundException or EntryPointNotFoundException
            ? new NativeLibraryMissingException(library, exception)
            : null;
}
