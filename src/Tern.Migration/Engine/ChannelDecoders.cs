using Tern.Migration.Compression;

namespace Tern.Migration.Engine;

/// <summary>One receiving channel's decompressors, made on first use (codec instances are not thread-safe).</summary>
internal sealed class ChannelDecoders : IDisposable
{
    private readonly Dictionary<string, IPageCodec> codecs = [];

    public IPageCodec For(string method)
    {
        if (!codecs.TryGetValue(method, out var codec))
        {
            // The level only matters for compressing; decompression reads any level.
            codec = PageCodecFactory.Create(method, 1);
            codecs[method] = codec;
        }
        return codec;
    }

    public void Dispose()
    {
        foreach (var c in codecs.Values) c.Dispose();
        codecs.Clear();
    }
}
