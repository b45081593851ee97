using System.Text;

namespace Tern.Bench.Macro;

/// <summary>A plain-text table with aligned columns, printable to a terminal and pasteable into Markdown.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> rows = [];

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length) throw new ArgumentException($"a row needs {headers.Length} cells, got {cells.Length}");
        rows.Add(cells);
    }

    /// <summary>Markdown pipe-table syntax, padded so that it also reads well as plain text.</summary>
    public override string ToString()
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        Line(text, headers, widths);
        text.Append('|');
        foreach (var w in widths) text.Append(' ').Append('-', w).Append(" |");
        text.AppendLine();
        foreach (var row in rows) Line(text, row, widths);
        return text.ToString();
    }

    private static void Line(StringBuilder text, string[] cells, int[] widths)
    {
        text.Append('|');
        for (int i = 0; i < cells.Length; i++) text.Append(' ').Append(cells[i].PadLeft(i == 0 ? 0 : widths[i]).PadRight(widths[i])).Append(" |");
        text.AppendLine();
    }
}
