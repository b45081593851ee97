namespace Tern.Cli.Tests.EndToEnd;

/// <summary>Tests that start VM processes run one at a time: two guests per test already fill two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "tern processes";
}
