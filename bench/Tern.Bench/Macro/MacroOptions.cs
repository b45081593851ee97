using Tern.Memory;

namespace Tern.Bench.Macro;

/// <summary>Command-line options of the macro benchmarks: <c>[--repeat N] [--sizes 1G,4G] [--only NAME] [--verbose]</c>.</summary>
public sealed record MacroOptions
{
    public int Repeat { get; init; } = 3;
    public IReadOnlyList<ulong> Sizes { get; init; } = [1UL << 30, 4UL << 30];
    /// <summary>Runs only the table whose name is given (see each mode's usage); null runs them all.</summary>
    public string? Only { get; init; }
    /// <summary>The guest's page content where a mode lets it be chosen (<c>--content mixed</c>); null = the workload's default.</summary>
    public string? Content { get; init; }
    /// <summary>Prints the migration engine's log lines as it runs.</summary>
    public bool Verbose { get; init; }

    /// <summary>Where engine log lines go: the console with --verbose, nowhere otherwise.</summary>
    public Action<string>? EngineLog => Verbose ? s => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {s}") : null;

    public bool Runs(string table) => Only is null || string.Equals(Only, table, StringComparison.OrdinalIgnoreCase);

    public static MacroOptions Parse(IReadOnlyList<string> args)
    {
        var options = new MacroOptions();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--verbose") { options = options with { Verbose = true }; continue; }
            string value = i + 1 < args.Count ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--repeat" => options with { Repeat = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) is > 0 and var n ? n : throw new ArgumentException("--repeat must be at least 1") },
                "--sizes" => options with { Sizes = value.Split(',').Select(s => ByteSize.Parse(s, "--sizes")).ToArray() },
                "--only" => options with { Only = value },
                "--content" => options with { Content = value is "sparse" or "mixed" ? value : throw new ArgumentException("--content is sparse or mixed") },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }
        return options;
    }
}
