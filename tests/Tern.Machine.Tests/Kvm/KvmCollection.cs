namespace Tern.Machine.Tests.Kvm;

/// <summary>
/// Tests that run real KVM guests share one collection and run one at a time: on two cores, guests of parallel
/// tests would take each other's CPU and distort pause latency and throttle measurements.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KvmCollection
{
    public const string Name = "real KVM guests";
}
