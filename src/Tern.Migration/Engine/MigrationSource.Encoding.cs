using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Xbzrle;
using Tern.Os;

namespace Tern.Migration.Engine;

public sealed partial class MigrationSource
{
    private SourcePageEncoder? encoder;
    private bool xbzrleOn;
    private string? compressMethodOn;
    private MigrationWorkingSet? workingSet;
    private long workingSetPages;
    private XbzrleCacheStats? xbzrleStats;
    private CompressionStats? compressionStats;

    private SourcePageEncoder PrepareEncoder() => encoder ??= new SourcePageEncoder(machine.Memory, counters);

    /// <summary>
    /// The encoding for the next pass, from the operator's current settings: a capability switched on or off during
    /// the migration takes effect here, and the XBZRLE cache is sized (or resized) from the measured working set.
    /// </summary>
    private EncoderSettings EncoderSettingsForPass()
    {
        var p = settings.Parameters;
        bool xbzrle = settings.IsEnabled(MigrationCapability.Xbzrle) && (negotiated & ProtocolCapability.Xbzrle) != 0;
        bool compress = settings.IsEnabled(MigrationCapability.Compress) && (negotiated & ProtocolCapabilities.ForCompressMethod(p.CompressMethod)) != 0;
        ulong cacheBytes = xbzrle ? XbzrleCacheSize(p) : 0;
        return new EncoderSettings(pass, xbzrle && cacheBytes > 0, cacheBytes, compress, p.CompressMethod, p.CompressLevel, p.CompressThreads);
    }

    /// <summary>
    /// The configured xbzrle-cache-size, or (0: automatic) a size fitted to the pages the guest has written during the
    /// migration; never above the host memory budget. Before any working set is measured (the first pass,
    /// when the cache could not hit anyway) there is no cache; once there is one, a pass with no working set keeps it.
    /// </summary>
    private ulong XbzrleCacheSize(MigrationParameters p)
    {
        ulong current = encoder?.CacheBytes ?? 0;
        if (p.XbzrleCacheSize == 0 && workingSetPages == 0 && current == 0) return 0;
        var decision = XbzrleCacheSizer.ForNextPass(p.XbzrleCacheSize, p.MemoryBudget, HostMemoryInfo.Read(),
            (ulong)workingSetPages, machine.Memory.Size, current, encoder?.CacheHeldBytes ?? 0);
        if (decision.Bytes != current) Log($"xbzrle cache {ByteSize.Format(current)} -> {ByteSize.Format(decision.Bytes)}: {decision.Reason}");
        return decision.Bytes;
    }

    /// <summary>Tells the destination which capabilities the coming pass uses, when that changed.</summary>
    private void AnnounceCapabilities(EncoderSettings next)
    {
        var payload = new PayloadWriter();
        if (next.Xbzrle != xbzrleOn)
        {
            new SetCapabilityMessage(ProtocolCapability.Xbzrle, next.Xbzrle).Write(payload);
            channels[0].Send(MessageType.SetCapability, payload);
            Log($"xbzrle {(next.Xbzrle ? "on" : "off")} from pass {pass}");
            xbzrleOn = next.Xbzrle;
        }
        string? method = next.Compress ? next.CompressMethod : null;
        if (method != compressMethodOn)
        {
            // A change of method switches the old one off and the new one on: the destination rejects records of a
            // kind switched off, so each announcement must be exact.
            if (compressMethodOn is not null)
            {
                payload.Reset();
                new SetCapabilityMessage(ProtocolCapabilities.ForCompressMethod(compressMethodOn), false).Write(payload);
                channels[0].Send(MessageType.SetCapability, payload);
            }
            if (method is not null)
            {
                payload.Reset();
                new SetCapabilityMessage(ProtocolCapabilities.ForCompressMethod(method), true).Write(payload);
                channels[0].Send(MessageType.SetCapability, payload);
            }
            Log(method is null ? $"compression off from pass {pass}" : $"compression ({method}, level {next.CompressLevel}, {next.CompressThreads} threads) from pass {pass}");
            compressMethodOn = method;
        }
    }

    /// <summary>After a sync: the working set XBZRLE can help with (see <see cref="MigrationWorkingSet"/>).</summary>
    private void MeasureWorkingSet()
    {
        workingSet ??= new MigrationWorkingSet(dirty!.PageCount);
        workingSetPages = workingSet.Observe(dirty!);
    }

    private void AfterPass()
    {
        if (encoder is null) return;
        // Once XBZRLE has run, keep reporting: after it is switched off the cache is gone and cache-size says 0
        // from the next pass, while the page and byte counts stay what the migration sent (cumulative).
        if (encoder.CacheBytes > 0 || xbzrleOn || xbzrleStats is not null) xbzrleStats = encoder.XbzrleSnapshot();
        if (encoder.Compression is { } c) compressionStats = c.Snapshot();
    }

    private XbzrleCacheStats? XbzrleStats() => xbzrleStats ?? (settings.IsEnabled(MigrationCapability.Xbzrle) ? new XbzrleCacheStats() : null);

    private CompressionStats? CompressionStats() => compressionStats ?? (settings.IsEnabled(MigrationCapability.Compress) ? new CompressionStats() : null);
}
