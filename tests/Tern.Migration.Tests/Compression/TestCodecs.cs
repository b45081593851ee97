using Tern.Memory;
using Tern.Migration.Compression;

namespace Tern.Migration.Tests.Compression;

/// <summary>
/// A real codec that makes every call wait at a gate until the test opens it. The wait gives up after a while, so a
/// test that fails before opening the gate cannot hang the run in the pipeline's Dispose.
/// </summary>
internal sealed class GatedCodec(ManualResetEventSlim gate) : IPageCodec
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(30);

    private readonly IPageCodec _inner = PageCodecFactory.Create("zstd", 1);

    public string Name => "gated";
    public int Level => 1;

    public PageCompressResult Compress(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        gate.Wait(GiveUp);
        return _inner.Compress(page, destination);
    }

    public PageDecompressResult Decompress(ReadOnlySpan<byte> compressed, Span<byte> page)
    {
        gate.Wait(GiveUp);
        return _inner.Decompress(compressed, page);
    }

    public void Dispose() => _inner.Dispose();
}

/// <summary>
/// A real codec that throws on pages whose first byte is <see cref="PoisonByte"/>, and optionally slows down or waits
/// at a gate (so a test can decide whether the fault is reached during Submit or during Flush).
/// </summary>
internal sealed class FaultyCodec(int delayMs = 0, ManualResetEventSlim? gate = null) : IPageCodec
{
    public const byte PoisonByte = 0xEE;
    private readonly IPageCodec _inner = PageCodecFactory.Create("zstd", 1);

    public string Name => "faulty";
    public int Level => 1;

    public static byte[] Poisoned()
    {
        var page = new byte[PageSize.Bytes];
        page[0] = PoisonByte;
        return page;
    }

    public PageCompressResult Compress(ReadOnlySpan<byte> page, Span<byte> destination)
    {
        if (delayMs > 0) Thread.Sleep(delayMs);
        gate?.Wait(TimeSpan.FromSeconds(30));
        if (page[0] == PoisonByte) throw new InvalidOperationException("poisoned page");
        return _inner.Compress(page, destination);
    }

    public PageDecompressResult Decompress(ReadOnlySpan<byte> compressed, Span<byte> page) => _inner.Decompress(compressed, page);

    public void Dispose() => _inner.Dispose();
}
