using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Transport;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Postcopy;

/// <summary>What a post-copy recovery test does on both sides: wait for the pause, recover on a new address.</summary>
internal static class PostcopyRecoverySupport
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Waits until both sides report postcopy-paused.</summary>
    public static void WaitBothPaused(LocalMigration m, MigrationSource source)
    {
        Assert.True(SpinWait.SpinUntil(() => source.Status == MigrationStatus.PostcopyPaused && m.Destination.Status == MigrationStatus.PostcopyPaused, Patience),
            $"both sides should pause: {m.Describe(source)}");
    }

    /// <summary>
    /// migrate-recover on the destination (a NEW listener, a new port) and migrate with resume on the source; returns
    /// the recovery listener (dispose it after the migration).
    /// </summary>
    public static Recovery Recover(LocalMigration m, MigrationSource source)
    {
        var listener = MigrationUri.Parse("tcp:127.0.0.1:0").CreateTransport().Listen();
        var recovery = new PostcopyRecoveryListener(listener, m.Destination);
        m.Destination.RecoverPostcopy();
        Assert.Equal(MigrationStatus.PostcopyRecover, m.Destination.Status);
        source.ResumePostcopy(MigrationUri.Parse(listener.Address).CreateTransport());
        return new Recovery(listener, recovery);
    }

    internal sealed class Recovery(IMigrationListener listener, PostcopyRecoveryListener recovery) : IDisposable
    {
        public string Address => listener.Address;

        public void Dispose()
        {
            recovery.Dispose();
            listener.Dispose();
        }
    }
}
