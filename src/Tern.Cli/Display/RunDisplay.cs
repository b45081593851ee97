using System.Globalization;
using Spectre.Console;
using Tern.Control.Host;
using Tern.Memory;
using Tern.Memory.DirtyRate;
using Tern.Migration.Api;

namespace Tern.Cli.Display;

/// <summary>Shows a VM once a second until stopped: a live table on a terminal, plain lines otherwise.</summary>
internal static class RunDisplay
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static void Show(VmHost vm, DisplayMode mode, TextWriter output, CancellationToken stop)
    {
        if (mode == DisplayMode.Auto) mode = Console.IsOutputRedirected || output != Console.Out ? DisplayMode.Plain : DisplayMode.Live;
        // Rates are measured between samples: the first one only sets the baseline (and draws the first page sample),
        // so it is taken a full interval before the first one shown.
        vm.Sample();
        if (stop.WaitHandle.WaitOne(Interval)) return;
        switch (mode)
        {
            case DisplayMode.Live:
                AnsiConsole.Live(Table(vm.Sample())).AutoClear(false).Start(context =>
                {
                    while (!stop.WaitHandle.WaitOne(Interval))
                    {
                        context.UpdateTarget(Table(vm.Sample()));
                        context.Refresh();
                    }
                });
                break;
            case DisplayMode.Plain:
                do output.WriteLine(Line(vm.Sample()));
                while (!stop.WaitHandle.WaitOne(Interval));
                break;
            default:
                do vm.Sample();
                while (!stop.WaitHandle.WaitOne(Interval));
                break;
        }
    }

    /// <summary>One line: state, heartbeats, progress, dirty rate and the migration, if any.</summary>
    public static string Line(VmSample s)
    {
        var parts = new List<string> { s.State.ToQapi() };
        if (s.Workload.Length > 0) parts.Add(s.Workload);
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"heartbeats {s.HeartbeatsPerSecond:0}/s"));
        if (s.ProgressPerSecond is { } p) parts.Add($"progress {Rate(p)} writes/s");
        if (s.DirtyRate is { } d) parts.Add($"dirty {Dirty(d)}");
        if (Migration(s.Migration) is { } m) parts.Add(m);
        if (s.Note is { } note) parts.Add(note);
        return "tern: " + string.Join("  ", parts);
    }

    private static Table Table(VmSample s)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("VM").AddColumn(new TableColumn("").LeftAligned());
        table.AddRow("state", Markup.Escape(s.State.ToQapi()));
        if (s.Workload.Length > 0) table.AddRow("workload", Markup.Escape(s.Workload));
        table.AddRow("heartbeats", string.Create(CultureInfo.InvariantCulture, $"{s.HeartbeatsPerSecond:0}/s ({s.Heartbeats} total)"));
        if (s.ProgressPerSecond is { } p) table.AddRow("progress", $"{Rate(p)} writes/s");
        if (s.Progress is { } counters) table.AddRow("counters", string.Join(" ", counters));
        if (s.DirtyRate is { } d) table.AddRow("dirty rate", Markup.Escape(Dirty(d)));
        if (Migration(s.Migration) is { } m) table.AddRow("migration", Markup.Escape(m));
        if (s.Note is { } note) table.AddRow("note", Markup.Escape(note));
        return table;
    }

    /// <summary>
    /// The dirty rate and how it was measured: page sampling (pages hashed a second apart, no dirty tracking, so the
    /// guest is not slowed), with the sample's size and the estimate's standard error.
    /// </summary>
    public static string Dirty(DirtyRateEstimate d) =>
        $"{Rate(d.DirtyPagesPerSecond)} pages/s ({ByteSize.Format((ulong)(d.DirtyPagesPerSecond * PageSize.Bytes))}/s" +
        $" ±{ByteSize.Format((ulong)(d.StandardErrorPagesPerSecond * PageSize.Bytes))}/s; page sampling: {d.ChangedPages} of {d.SampledPages} pages changed)";

    private static string? Migration(MigrationInfo info)
    {
        if (info.Status == MigrationStatus.None) return null;
        var text = $"migration {info.Status.ToQapi()}";
        if (info.Ram is { } ram)
            text += string.Create(CultureInfo.InvariantCulture,
                $", pass {ram.DirtySyncCount}, {ByteSize.Format((ulong)ram.Transferred)} sent, {ByteSize.Format((ulong)ram.Remaining)} left, {ram.Mbps:0} Mbit/s");
        if (info.ExpectedDowntimeMs is { } e) text += $", expected downtime {e} ms";
        if (info.DowntimeMs is { } dt) text += $", downtime {dt} ms";
        if (info.ErrorDesc is { } why) text += $": {why}";
        return text;
    }

    private static string Rate(double perSecond) => perSecond switch
    {
        >= 1e9 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e9:0.0} G"),
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e6:0.0} M"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e3:0.0} K"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{perSecond:0}"),
    };
}
