using Tern.Memory;
using Tern.Memory.Dirty;
using Tern.Migration.Api;
using Tern.Migration.Planning;
using Tern.Migration.Protocol;
using Tern.Migration.Xbzrle;
using Tern.Os;

namespace Tern.Migration.Engine.Source;

internal sealed partial class SourceSession
{
    private SourcePageEncoder? encoder;
    private bool xbzrleOn;
    private string? compressMethodOn;
    private MigrationWorkingSet? workingSet;
    private long workingSetPages;
    private XbzrleCacheStats? xbzrleStats;
    private CompressionStats? compressionStats;

    private SourcePageEncoder PrepareEncoder() => encoder ??= new SourcePageEncoder(machine.Memory, counters);

    /// <summary>The encoder's settings for pass <see cref="pass"/> from the plan's encodings.</summary>
    private EncoderSettings EncoderSettingsFor(PassEncoding planned) =>
        new(Pass, planned.Xbzrle && planned.XbzrleCacheBytes > 0, planned.Xbzrle ? planned.XbzrleCacheBytes : 0, planned.CompressMethod is not null,
            planned.CompressMethod ?? settings.Parameters.CompressMethod, planned.CompressLevel, planned.CompressThreads, planned.XbzrleThreads);

    /// <summary>Tells the destination which capabilities the coming pass uses, when that changed.</summary>
    private void AnnounceCapabilities(EncoderSettings next)
    {
        var payload = new PayloadWriter();
        if (next.Xbzrle != xbzrleOn)
        {
            new SetCapabilityMessage(ProtocolCapability.Xbzrle, next.Xbzrle).Write(payload);
            channels[0].Send(MessageType.SetCapability, payload);
            Log($"xbzrle {(next.Xbzrle ? "on" : "off")} from pass {Pass}");
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
            Log(method is null ? $"compression off from pass {Pass}" : $"compression ({method}, level {next.CompressLevel}, {next.CompressThreads} threads) from pass {Pass}");
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
