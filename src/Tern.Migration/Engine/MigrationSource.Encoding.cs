using Tern.Migration.Api;

namespace Tern.Migration.Engine;

public sealed partial class MigrationSource
{
    private SourcePageEncoder? encoder;

    /// <summary>The page encoder for the next pass, configured from the operator's current settings.</summary>
    private SourcePageEncoder PrepareEncoder() => encoder ??= new SourcePageEncoder(machine.Memory, counters);

    private void AfterPass()
    {
    }

    private XbzrleCacheStats? XbzrleStats() => null;

    private CompressionStats? CompressionStats() => null;
}
