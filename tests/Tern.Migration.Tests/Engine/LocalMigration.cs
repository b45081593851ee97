using System.Net.Sockets;
using Tern.Guest;
using Tern.Machine;
using Tern.Machine.Sim;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Planning;
using Tern.Migration.Transport;

namespace Tern.Migration.Tests.Engine;

/// <summary>
/// A source and a destination in this process over real loopback TCP (or another transport given). The destination
/// builds its machine from the source's description, as `tern run --incoming` does.
/// </summary>
internal sealed class LocalMigration : IDisposable
{
    private readonly IMigrationListener listener;
    private readonly IMigrationTransport connector;
    private readonly MigrationUri? uri;
    private readonly List<string> log = [];

    public LocalMigration(IVirtualMachine source, Func<MachineDescription, IVirtualMachine> createDestination, ulong? destinationMemoryLimit = null,
        DestinationLimits? destinationLimits = null, IMigrationTransport? transport = null)
    {
        destinationLimits ??= new DestinationLimits();
        if (destinationMemoryLimit is not null) destinationLimits = destinationLimits with { MemoryBytes = destinationMemoryLimit };
        Source = source;
        listener = (transport ?? MigrationUri.Parse("tcp:127.0.0.1:0").CreateTransport()).Listen();
        if (transport is null) uri = MigrationUri.Parse(listener.Address);
        connector = transport ?? uri!.CreateTransport();
        Destination = new MigrationDestination(listener, createDestination, destinationLimits);
        Destination.Event += e => { if (e is MigrationLog l) lock (log) log.Add("dst: " + l.Text); };
        DestinationRun = Destination.RunAsync();
    }

    /// <summary>Simulated guests on both sides.</summary>
    public static LocalMigration Sim(string workload, ulong memoryBytes = 64 << 20, int vcpus = 2, IMigrationTransport? transport = null,
        DestinationLimits? destinationLimits = null) =>
        new(SimMachine.Create(new SimMachineOptions(memoryBytes, vcpus, WorkloadSpec.Parse(workload))),
            description => SimMachine.CreateIncoming(new SimMachineOptions(description.MemoryBytes, description.VcpuCount, WorkloadSpec.Parse(description.Workload))),
            destinationLimits: destinationLimits, transport: transport);

    public IVirtualMachine Source { get; }
    public MigrationDestination Destination { get; }
    public Task DestinationRun { get; }
    /// <summary>The destination's TCP address (not for a migration over another transport).</summary>
    public MigrationUri Uri => uri ?? throw new InvalidOperationException("this migration runs over a transport without a URI");
    public MigrationSettings Settings { get; } = new();
    public IReadOnlyList<string> Log { get { lock (log) return log.ToList(); } }

    public IVirtualMachine? DestinationMachine => Destination.Machine;

    /// <summary>
    /// Starts a migration of the (running) source and returns it without waiting. <paramref name="configure"/> sees
    /// the source before it runs (to subscribe to its events); <paramref name="via"/> replaces the address it connects
    /// to (a fault-injecting proxy in front of the destination); <paramref name="over"/> replaces the transport it
    /// connects with (a fault-injecting wrapper); <paramref name="planner"/> replaces the default pass planner.
    /// </summary>
    public (MigrationSource Source, Task Run) Start(Action<MigrationSource>? configure = null, MigrationUri? via = null, IMigrationTransport? over = null,
        TimeSpan? writeStallLimit = null, IPassPlanner? planner = null)
    {
        var source = writeStallLimit is { } limit ? new MigrationSource(Source, Settings, planner) { WriteStallLimit = limit } : new MigrationSource(Source, Settings, planner);
        source.Event += e => { if (e is MigrationLog l) lock (log) log.Add("src: " + l.Text); };
        configure?.Invoke(source);
        return (source, source.RunAsync(over ?? via?.CreateTransport() ?? connector));
    }

    /// <summary>Waits for a migration started with <see cref="Start"/> and for the destination to finish.</summary>
    public void Finish(MigrationSource source, Task run, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(90);
        Assert.True(run.Wait(limit), $"the source did not finish within {limit.TotalSeconds} s; {Describe(source)}");
        Assert.True(DestinationRun.Wait(limit), $"the destination did not finish within {limit.TotalSeconds} s; {Describe(source)}");
    }

    /// <summary>Waits for the source only (for attempts that never began a migration on the destination).</summary>
    public void FinishSource(MigrationSource source, Task run, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(40);
        Assert.True(run.Wait(limit), $"the source did not finish within {limit.TotalSeconds} s; {Describe(source)}");
    }

    /// <summary>Migrates and waits for both sides to finish.</summary>
    public MigrationSource Run(TimeSpan? timeout = null)
    {
        var (source, run) = Start();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        Assert.True(run.Wait(limit), $"the source did not finish within {limit.TotalSeconds} s; status {source.Status}; log:\n{string.Join('\n', Log)}");
        Assert.True(DestinationRun.Wait(limit), $"the destination did not finish within {limit.TotalSeconds} s; log:\n{string.Join('\n', Log)}");
        return source;
    }

    public string Describe(MigrationSource source) =>
        $"source {source.Status} ({source.Info().ErrorDesc}); destination {Destination.Status} ({Destination.Info().ErrorDesc})\n{string.Join('\n', Log)}";

    public void Dispose()
    {
        Destination.Dispose();
        DestinationRun.Wait(TimeSpan.FromSeconds(10));
        listener.Dispose();
        Destination.Machine?.Dispose();
        Source.Dispose();
    }
}
