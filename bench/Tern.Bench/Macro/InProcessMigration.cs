using System.Diagnostics;
using System.Net.Sockets;
using Tern.Machine;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Transport;

namespace Tern.Bench.Macro;

/// <summary>What one benchmarked migration reported, plus what the benchmark counted itself.</summary>
/// <param name="Info">The source's final <c>query-migrate</c>.</param>
/// <param name="Wall">From starting the source to the destination finishing.</param>
/// <param name="LivePasses">Passes sent while the guest ran (the stop-and-copy pass comes after them).</param>
/// <param name="BacklogAtPauseBytes">Bytes the source had sent and the destination not yet read when the switchover began (-1: no switchover).</param>
public sealed record MigrationResult(MigrationInfo Info, TimeSpan Wall, long LivePasses, long BacklogAtPauseBytes = -1);

/// <summary>
/// A source and a destination in this process over real loopback TCP, as the engine tests and `tern run
/// --incoming` set them up: the destination builds its machine from the source's description. Owns both machines.
/// </summary>
public sealed class InProcessMigration : IDisposable
{
    private readonly IVirtualMachine source;
    private readonly IMigrationListener listener;
    private readonly MigrationDestination destination;
    private readonly Task destinationRun;
    private readonly Action<string>? log;
    private readonly bool ownsSource;

    /// <param name="log">Receives the engine's log lines from both ends (for --verbose), or null.</param>
    /// <param name="ownsSource">Whether disposing this disposes the source machine too.</param>
    public InProcessMigration(IVirtualMachine source, MachineHostOptions host, Action<string>? log = null, bool ownsSource = true)
    {
        this.source = source;
        this.ownsSource = ownsSource;
        this.log = log;
        listener = MigrationUri.Parse("tcp:127.0.0.1:0").CreateTransport().Listen();
        Uri = MigrationUri.Parse(listener.Address);
        destination = new MigrationDestination(listener, description => MachineBuilder.CreateIncoming(description, host));
        if (log is not null) destination.Event += e => { if (e is MigrationLog l) log("    dst: " + l.Text); };
        destinationRun = destination.RunAsync();
    }

    public MigrationUri Uri { get; }
    public MigrationSettings Settings { get; } = new();

    /// <summary>The destination's side (its status and <c>query-migrate</c>, with the post-copy figures).</summary>
    public MigrationDestination Destination => destination;

    /// <summary>Migrates the source (running or not) and waits for both sides; throws unless it completed.</summary>
    public MigrationResult Run(TimeSpan timeout)
    {
        var result = TryRun(timeout);
        if (result.Info.Status != MigrationStatus.Completed)
            throw new InvalidOperationException($"the migration ended {result.Info.Status.ToQapi()}: {result.Info.ErrorDesc}; destination: {destination.Info().ErrorDesc}");
        return result;
    }

    /// <summary>Migrates the source and waits for both sides, however the migration ends.</summary>
    /// <param name="prepare">Called with the source's migration before it starts (to watch its events or steer it), or null.</param>
    public MigrationResult TryRun(TimeSpan timeout, Action<MigrationSource>? prepare = null)
    {
        using var migration = new MigrationSource(source, Settings);
        prepare?.Invoke(migration);
        long livePasses = 0;
        long backlog = -1;
        migration.Event += e =>
        {
            if (e is MigrationPassStarted p) Interlocked.Exchange(ref livePasses, p.Pass);
            // Raised on the migration thread just before the pause: what the destination still has to read then is
            // work the stop will include.
            if (e is MigrationSwitchoverStarted)
                Interlocked.Exchange(ref backlog, (migration.Info().Ram?.Transferred ?? 0) - (destination.Info().Ram?.Transferred ?? 0));
            if (e is MigrationLog l) log?.Invoke("    src: " + l.Text);
        };
        long started = Stopwatch.GetTimestamp();
        var run = migration.RunAsync(Uri);
        if (!run.Wait(timeout) || !destinationRun.Wait(timeout))
        {
            migration.Cancel();
            throw new TimeoutException($"the migration did not finish within {timeout.TotalSeconds:0} s (status {migration.Status})");
        }
        var wall = Stopwatch.GetElapsedTime(started);
        return new MigrationResult(migration.Info(), wall, Interlocked.Read(ref livePasses), Interlocked.Read(ref backlog));
    }

    public void Dispose()
    {
        destination.Dispose();
        destinationRun.Wait(TimeSpan.FromSeconds(10));
        listener.Dispose();
        destination.Machine?.Dispose();
        if (ownsSource) source.Dispose();
    }
}
