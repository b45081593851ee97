using System.Diagnostics.CodeAnalysis;

namespace Tern.Os.Native;

/// <summary>
/// Streaming XXH3-64: feed data in any number of pieces and read the digest of everything so far. The digest equals
/// <see cref="XxHash3.Hash64"/> over the concatenation, whatever the split. Not thread-safe.
/// </summary>
public sealed class XxHash3Stream : IDisposable
{
    private readonly XxHash3StateHandle _state;
    private readonly ulong _seed;

    public XxHash3Stream(ulong seed = 0)
    {
        NativeLibraryLoader.Require(NativeLibraryInfo.XxHash);
        _seed = seed;
        _state = XxHashInterop.XXH3_createState();
        if (_state.IsInvalid) throw new OutOfMemoryException("xxhash: XXH3_createState could not allocate a hash state");
        Reset();
    }

    /// <summary>Starts over, as if newly created with the same seed.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_state.IsClosed, this);
        if (XxHashInterop.XXH3_64bits_reset_withSeed(_state, _seed) != XxHashInterop.Ok) ThrowFailed("XXH3_64bits_reset_withSeed");
    }

    /// <summary>Adds <paramref name="data"/> to the hashed stream.</summary>
    public unsafe void Update(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_state.IsClosed, this);
        int result;
        // Pinned for the call; libxxhash copies what it keeps into its own state before returning.
        fixed (byte* input = data)
        {
            result = XxHashInterop.XXH3_64bits_update(_state, input, (nuint)data.Length);
        }
        if (result != XxHashInterop.Ok) ThrowFailed("XXH3_64bits_update");
    }

    /// <summary>The digest of everything added since creation or the last <see cref="Reset"/>; the stream goes on.</summary>
    public ulong Digest()
    {
        ObjectDisposedException.ThrowIf(_state.IsClosed, this);
        return XxHashInterop.XXH3_64bits_digest(_state);
    }

    public void Dispose() => _state.Dispose();

    [DoesNotReturn]
    private static void ThrowFailed(string call) => throw new NativeCodecException("xxhash", $"{call} failed");
}
