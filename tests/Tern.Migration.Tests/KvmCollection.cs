namespace Tern.Migration.Tests;

/// <summary>Tests that run real KVM guests run one at a time: on two cores, parallel guests distort each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KvmCollection
{
    public const string Name = "real KVM guests";
}
