using BenchmarkDotNet.Configs;

namespace Tern.Bench.Xbzrle;

/// <summary>Adds the GB/s column to the default configuration; pass --job short on the command line for a quick run.</summary>
public sealed class XbzrleBenchConfig : ManualConfig
{
    public XbzrleBenchConfig()
    {
        AddColumn(new PageThroughputColumn());
    }
}
