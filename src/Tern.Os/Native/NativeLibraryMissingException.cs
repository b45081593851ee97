namespace Tern.Os.Native;

/// <summary>
/// A native library Tern needs could not be loaded, or lacks a function Tern calls. The message names the library,
/// what Tern needs it for and the Debian package to install.
/// </summary>
public sealed class NativeLibraryMissingException : Exception
{
    public NativeLibraryMissingException(NativeLibraryInfo library, Exception? inner = null)
        : base(MessageFor(library, inner), inner)
    {
        Library = library;
    }

    public NativeLibraryInfo Library { get; }

    private static string MessageFor(NativeLibraryInfo library, Exception? inner) => inner is EntryPointNotFoundException
        ? $"{library.FileName} was loaded but lacks a function Tern needs for {library.Purpose} ({inner.Message}); " +
          $"install a current Debian package {library.DebianPackage} (scripts/setup.sh does it)"
        : $"cannot load {library.FileName}, needed for {library.Purpose}: " +
          $"install Debian package {library.DebianPackage} (scripts/setup.sh does it)";
}
