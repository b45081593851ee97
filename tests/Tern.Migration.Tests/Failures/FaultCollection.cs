namespace Tern.Migration.Tests.Failures;

/// <summary>
/// Migrations driven into failures run one at a time, after the parallel tests: their guests and proxies would
/// otherwise take CPU from the convergence tests, whose outcome depends on how fast a guest dirties memory.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection
{
    public const string Name = "migrations under fault";
}
