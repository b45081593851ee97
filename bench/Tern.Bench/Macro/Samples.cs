namespace Tern.Bench.Macro;

/// <summary>Repeated measurements of one quantity, summarized by their median (robust on a shared, noisy host).</summary>
public sealed class Samples
{
    private readonly List<double> values = [];

    public void Add(double value) => values.Add(value);

    public int Count => values.Count;

    public double Median
    {
        get
        {
            if (values.Count == 0) return double.NaN;
            var sorted = values.Order().ToArray();
            int mid = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }

    public double Min => values.Count == 0 ? double.NaN : values.Min();
    public double Max => values.Count == 0 ? double.NaN : values.Max();

    /// <summary>The value below which <paramref name="fraction"/> of the samples lie (nearest rank).</summary>
    public double Percentile(double fraction)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(fraction * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
