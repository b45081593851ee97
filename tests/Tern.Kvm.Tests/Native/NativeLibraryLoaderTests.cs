using Xunit;
using Tern.Os.Native;

namespace Tern.Kvm.Tests.Native;

public sealed class NativeLibraryLoaderTests
{
    [Fact]
    public void Missing_library_error_names_the_library_and_the_package_to_install()
    {
        var absent = new NativeLibraryInfo("libtern-no-such-library.so.7", "tern-no-such-package", "testing the loader");

        var e = Assert.Throws<NativeLibraryMissingException>(() => NativeLibraryLoader.Require(absent));

        Assert.Same(absent, e.Library);
        Assert.Contains("libtern-no-such-library.so.7", e.Message);
        Assert.Contains("install Debian package tern-no-such-package", e.Message);
        Assert.Contains("scripts/setup.sh", e.Message);
    }

    [Fact]
    public void Runtime_load_failures_are_translated_and_other_exceptions_are_not()
    {
        var translated = NativeLibraryLoader.Translate(NativeLibraryInfo.Zstd, new DllNotFoundException("gone"));
        Assert.NotNull(translated);
        Assert.Contains("install Debian package libzstd1", translated.Message);

        var missingFunction = NativeLibraryLoader.Translate(NativeLibraryInfo.XxHash, new EntryPointNotFoundException("XXH3_64bits_withSeed"));
        Assert.NotNull(missingFunction);
        Assert.Contains("lacks a function", missingFunction.Message);
        Assert.Contains("XXH3_64bits_withSeed", missingFunction.Message);

        Assert.Null(NativeLibraryLoader.Translate(NativeLibraryInfo.Zstd, new InvalidOperationException()));
    }

    [Fact]
    public void The_libraries_Tern_binds_are_installed()
    {
        foreach (var library in new[] { NativeLibraryInfo.Zstd, NativeLibraryInfo.Lz4, NativeLibraryInfo.Zlib, NativeLibraryInfo.XxHash })
        {
            NativeLibraryLoader.Require(library);
        }
    }
}
