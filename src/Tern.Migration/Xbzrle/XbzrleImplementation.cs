using System.Runtime.Intrinsics;

namespace Tern.Migration.Xbzrle;

/// <summary>
/// How the encoder finds changed bytes. All produce identical encodings; they differ only in speed. The fastest the
/// hardware accelerates is chosen once, at start-up (<see cref="XbzrleEncoder.Implementation"/>); naming one
/// explicitly is for tests and benchmarks, which run every one (a vector width the hardware lacks runs in software).
/// </summary>
public enum XbzrleImplementation
{
    /// <summary>64-bit words with a SWAR "byte is non-zero" test: no vector instructions at all.</summary>
    Scalar,
    /// <summary>AVX2-class 32-byte compares.</summary>
    Vector256,
    /// <summary>AVX-512-class 64-byte compares.</summary>
    Vector512,
}

internal static class XbzrleImplementations
{
    /// <summary>The implementation this process uses: fixed for its lifetime, hence a readonly static.</summary>
    public static readonly XbzrleImplementation Best =
        Vector512.IsHardwareAccelerated ? XbzrleImplementation.Vector512
        : Vector256.IsHardwareAccelerated ? XbzrleImplementation.Vector256
        : XbzrleImplementation.Scalar;
}
