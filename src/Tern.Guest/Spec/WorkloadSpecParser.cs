using System.Globalization;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// Turns a spec string into a <see cref="WorkloadSpec"/>. Every error names the spec and the part that is wrong,
/// and says what would be accepted.
/// </summary>
internal static class WorkloadSpecParser
{
    private const string Kinds = "idle, compute, stride, seq, fill, random, hotcold";

    public static WorkloadSpec Parse(string text)
    {
        string spec = text.Trim();
        if (spec.Length == 0)
            throw Error(text, $"the workload is empty; expected one of {Kinds} (example: seq:ws=64M)");

        int colon = spec.IndexOf(':');
        string name = (colon < 0 ? spec : spec[..colon]).Trim();
        string optionText = colon < 0 ? "" : spec[(colon + 1)..];
        WorkloadKind kind = name.ToLowerInvariant() switch
        {
            "idle" => WorkloadKind.Idle,
            "stride" => WorkloadKind.Stride,
            "seq" => WorkloadKind.Seq,
            "fill" => WorkloadKind.Fill,
            "random" => WorkloadKind.Random,
            "hotcold" => WorkloadKind.HotCold,
            "compute" => WorkloadKind.Compute,
            _ => throw Error(text, $"unknown workload '{name}'; expected one of {Kinds}"),
        };
        name = WorkloadSpec.NameOf(kind);
        string[] allowed = AllowedKeys(kind);

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (colon >= 0)
        {
            if (optionText.Trim().Length == 0)
                throw Error(text, $"nothing after ':'; {name} takes {string.Join(", ", allowed.Select(k => k + "="))}");
            foreach (string raw in optionText.Split(','))
            {
                string option = raw.Trim();
                int eq = option.IndexOf('=');
                if (option.Length == 0) throw Error(text, "an empty option (two commas in a row, or a trailing comma)");
                if (eq <= 0) throw Error(text, $"option '{option}' is not key=value (example: ws=64M)");
                string key = option[..eq].Trim().ToLowerInvariant();
                string value = option[(eq + 1)..].Trim();
                if (!allowed.Contains(key))
                    throw Error(text, $"{name} takes no '{key}=' option; it takes {string.Join(", ", allowed.Select(k => k + "="))}");
                if (value.Length == 0) throw Error(text, $"'{key}=' has no value");
                if (!values.TryAdd(key, value)) throw Error(text, $"'{key}=' is given twice");
            }
        }

        try
        {
            WorkloadSpec result = kind switch
            {
                WorkloadKind.Idle => WorkloadSpec.Idle(),
                WorkloadKind.Compute => WorkloadSpec.Compute(),
                WorkloadKind.Stride => WorkloadSpec.Stride(Size(values, "ws") ?? WorkloadSpec.DefaultStrideBytes),
                WorkloadKind.Seq => WorkloadSpec.Seq(RequiredSize(values, "ws", name)),
                WorkloadKind.Fill => WorkloadSpec.Fill(RequiredSize(values, "ws", name)),
                WorkloadKind.Random => WorkloadSpec.Random(RequiredSize(values, "ws", name)),
                WorkloadKind.HotCold => WorkloadSpec.HotCold(
                    RequiredSize(values, "ws", name),
                    RequiredSize(values, "hot", name),
                    Probability(values) ?? WorkloadSpec.DefaultHotProbability),
                _ => throw new ArgumentOutOfRangeException(nameof(text)),
            };
            if (values.TryGetValue("rate", out string? rate)) result = result.WithRate(Rate(rate));
            if (values.TryGetValue("seed", out string? seed)) result = result.WithSeed(Seed(seed));
            if (values.TryGetValue("content", out string? content)) result = result.WithContent(Content(content));
            return result;
        }
        catch (FormatException e)
        {
            throw Error(text, e.Message);
        }
    }

    private static string[] AllowedKeys(WorkloadKind kind) => kind switch
    {
        WorkloadKind.Idle => ["rate", "seed"],
        WorkloadKind.Compute => ["seed"],
        WorkloadKind.Stride or WorkloadKind.Seq or WorkloadKind.Fill or WorkloadKind.Random => ["ws", "rate", "seed", "content"],
        _ => ["ws", "hot", "p", "rate", "seed", "content"],
    };

    private static ulong RequiredSize(Dictionary<string, string> values, string key, string name) =>
        Size(values, key) ?? throw new FormatException(
            key == "ws"
                ? $"{name} needs ws=SIZE, the working set it writes (example: {name}:ws=64M{(name == "hotcold" ? ",hot=8M" : "")})"
                : $"{name} needs {key}=SIZE (example: hotcold:ws=1G,hot=64M,p=0.9)");

    private static ulong? Size(Dictionary<string, string> values, string key)
    {
        if (!values.TryGetValue(key, out string? text)) return null;
        return ByteSize.TryParse(text, out ulong bytes)
            ? bytes
            : throw new FormatException($"{key}={text}: '{text}' is not a size (examples: 4096, 64K, 512M, 1G)");
    }

    private static double? Probability(Dictionary<string, string> values)
    {
        if (!values.TryGetValue("p", out string? text)) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double p))
            throw new FormatException($"p={text}: '{text}' is not a number (example: p=0.9)");
        return p;
    }

    private static double Rate(string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
            throw new FormatException($"rate={text}: '{text}' is not a number of MiB/s (example: rate=200)");
        return rate;
    }

    private static ulong Seed(string text)
    {
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong seed)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seed);
        return ok ? seed : throw new FormatException($"seed={text}: '{text}' is not a 64-bit unsigned integer (decimal, or hex with 0x)");
    }

    private static PageContent Content(string text) => text.ToLowerInvariant() switch
    {
        "sparse" => PageContent.Sparse,
        "mixed" => PageContent.Mixed,
        _ => throw new FormatException($"content={text}: expected sparse (one 8-byte value per write) or mixed (whole pages that compress about 2-3x)"),
    };

    private static FormatException Error(string spec, string problem) => new($"workload \"{spec.Trim()}\": {problem}");
}
