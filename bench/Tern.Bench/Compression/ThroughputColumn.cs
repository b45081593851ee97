using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Tern.Bench.Compression;

/// <summary>Bytes one benchmark operation processes, declared on the benchmark class, for the MB/s column.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class BytesPerOperationAttribute(long bytes) : Attribute
{
    public long Bytes { get; } = bytes;
}

/// <summary>Adds an <c>MB/s</c> column: the class's bytes per operation divided by the mean time (1 MB = 10^6 bytes).</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig() => AddColumn(new ThroughputColumn());

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => "Tern.MBps";
        public string ColumnName => "MB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Throughput: bytes per operation / mean time, in 10^6 bytes per second";

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var bytes = benchmarkCase.Descriptor.Type.GetCustomAttributes(typeof(BytesPerOperationAttribute), false)
                .Cast<BytesPerOperationAttribute>().FirstOrDefault()?.Bytes;
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            if (bytes is null || mean is null or <= 0) return "-";
            return (bytes.Value / mean.Value * 1e9 / 1e6).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
