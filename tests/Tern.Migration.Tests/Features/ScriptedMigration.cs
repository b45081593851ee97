using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Features;

/// <summary>
/// Runs a migration whose passes are scripted: an action runs when its pass starts (before the pass is encoded, so a
/// setting it changes applies to that pass), and the migration cannot switch over before a chosen pass (the downtime
/// limit is 1 ms until then; from that pass on it is generous and the bandwidth unlimited), so the actions meet the
/// passes they are meant for however fast or slow the machine is. The bandwidth cap the test sets must be low enough
/// that what the guest dirties in a pass takes longer than 1 ms to send, even as XBZRLE deltas or compressed.
/// </summary>
internal static class ScriptedMigration
{
    /// <summary>Generous enough for any of these small guests to switch over after <c>switchoverAfterPass</c>.</summary>
    private const long FinalDowntimeLimitMs = 5_000;

    /// <summary>
    /// Migrates <paramref name="m"/>'s (running) source with verification on and waits for both sides. Each entry of
    /// <paramref name="atPass"/> runs when its pass starts; it receives the source, e.g. to record its statistics.
    /// </summary>
    public static MigrationSource Run(LocalMigration m, long switchoverAfterPass, IReadOnlyDictionary<long, Action<MigrationSource>> atPass)
    {
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetParameters(m.Settings.Parameters with { DowntimeLimitMs = 1, TimeoutMs = 60_000 });
        var (source, run) = m.Start();
        Exception? failed = null;
        source.Event += e =>
        {
            if (e is not MigrationPassStarted started) return;
            try
            {
                if (atPass.TryGetValue(started.Pass, out var action)) action(source);
                if (started.Pass == switchoverAfterPass)
                    m.Settings.SetParameters(m.Settings.Parameters with { DowntimeLimitMs = FinalDowntimeLimitMs, MaxBandwidth = 0 });
            }
            catch (Exception ex)
            {
                failed ??= ex;
            }
        };
        m.Finish(source, run);
        if (failed is not null) throw new InvalidOperationException($"a scripted action failed: {failed.Message}", failed);
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        Assert.True(source.Info().Verification!.Matched, m.Describe(source));
        return source;
    }
}
