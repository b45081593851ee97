using System.Globalization;
using System.Text;
using Tern.Migration.Api;

namespace Tern.Control.Text;

/// <summary>
/// Formats <see cref="MigrationInfo"/> as QEMU 7.2's HMP <c>info migrate</c> does, line for line, so operators and their
/// scripts read Tern's output like QEMU's; Tern's extras (guest-observed downtime, verification, channels, convergence)
/// follow. As in QEMU, a section or line appears only when the value is present (some counters only when non-zero).
/// </summary>
public static class InfoMigrateFormatter
{
    public static string Format(MigrationInfo info)
    {
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');

        var status = $"Migration status: {info.Status.ToQapi()}";
        // A paused post-copy says why and what to do, as a failure does.
        Line(info.ErrorDesc is { } error && info.Status is MigrationStatus.Failed or MigrationStatus.Cancelled
                or MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover
            ? $"{status} ({error})"
            : status);
        if (info.TotalTimeMs is { } total) Line($"total time: {total} ms");
        if (info.ExpectedDowntimeMs is { } expected) Line($"expected downtime: {expected} ms");
        if (info.DowntimeMs is { } downtime) Line($"downtime: {downtime} ms");
        if (info.SetupTimeMs is { } setup) Line($"setup: {setup} ms");

        if (info.Ram is { } ram)
        {
            Line($"transferred ram: {KiB(ram.Transferred)} kbytes");
            Line($"throughput: {Fixed2(ram.Mbps)} mbps");
            Line($"remaining ram: {KiB(ram.Remaining)} kbytes");
            Line($"total ram: {KiB(ram.Total)} kbytes");
            Line($"duplicate: {ram.Duplicate} pages");
            Line($"normal: {ram.Normal} pages");
            Line($"normal bytes: {KiB(ram.NormalBytes)} kbytes");
            Line($"dirty sync count: {ram.DirtySyncCount}");
            Line($"page size: {KiB(ram.PageSize)} kbytes");
            Line($"multifd bytes: {ram.MultifdBytes >> 10} kbytes");
            Line($"pages-per-second: {ram.PagesPerSecond}");
            if (ram.DirtyPagesRate != 0) Line($"dirty pages rate: {ram.DirtyPagesRate} pages");
            if (ram.PostcopyRequests != 0) Line($"postcopy request count: {ram.PostcopyRequests}");
            if (ram.PrecopyBytes != 0) Line($"precopy ram: {ram.PrecopyBytes >> 10} kbytes");
            if (ram.DowntimeBytes != 0) Line($"downtime ram: {ram.DowntimeBytes >> 10} kbytes");
            if (ram.PostcopyBytes != 0) Line($"postcopy ram: {ram.PostcopyBytes >> 10} kbytes");
        }

        if (info.XbzrleCache is { } x)
        {
            Line($"cache size: {x.CacheSize} bytes");
            Line($"xbzrle transferred: {KiB(x.Bytes)} kbytes");
            Line($"xbzrle pages: {x.Pages} pages");
            Line($"xbzrle cache miss: {x.CacheMiss} pages");
            Line($"xbzrle cache miss rate: {Fixed2(x.CacheMissRate)}");
            Line($"xbzrle encoding rate: {Fixed2(x.EncodingRate)}");
            Line($"xbzrle overflow: {x.Overflow}");
        }

        if (info.Compression is { } c)
        {
            Line($"compression pages: {c.Pages} pages");
            Line($"compression busy: {c.Busy}");
            Line($"compression busy rate: {Fixed2(c.BusyRate)}");
            Line($"compressed size: {KiB(c.CompressedSize)} kbytes");
            Line($"compression rate: {Fixed2(c.CompressionRate)}");
        }

        if (info.CpuThrottlePercentage is { } throttle) Line($"cpu throttle percentage: {throttle}");
        if (info.VcpuThrottlePercentages is { Count: > 1 } perVcpu) Line($"vcpu throttle: {string.Join(", ", perVcpu.Select((p, i) => $"vCPU {i} {p}%"))}");
        if (info.ThrottlePeak is { } peak) Line($"throttle peak: {peak}%");
        if (info.ThrottleReason is { } why) Line($"throttle reason: {why}");

        if (info.GuestDowntimeMs is { } guestDowntime) Line($"guest-observed downtime: {guestDowntime} ms");
        if (info.Verification is { } v)
        {
            Line(v.Matched
                ? $"verification: matched ({v.PagesCompared} pages compared, digest 0x{v.SourceDigest:x16})"
                : $"verification: MISMATCH ({v.PagesCompared} pages compared, source digest 0x{v.SourceDigest:x16}, " +
                  $"destination digest 0x{v.DestinationDigest:x16})");
        }
        if (info.Channels is { } channels) Line($"channels: {channels}");
        if (info.ChannelBytes is { Count: > 1 } perChannel) Line($"channel bytes: {string.Join(", ", perChannel.Select(b => $"{b / 1024} kbytes"))}");
        if (info.Converging is { } converging) Line($"converging: {(converging ? "yes" : "no")}");
        if (info.Plan is { } plan) Line($"plan for pass {plan.Pass}: {plan.Action} ({plan.Reason})");
        if (info.Switchover is { Count: > 0 } steps)
            Line("switchover steps: " + string.Join(", ", steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Step.ToQapi()} {s.Ms:0.0} ms"))));
        if (info.GuestSlowdown is { } slowdown) foreach (var line in GuestSlowdownText.Lines(slowdown)) Line(line);
        return text.ToString();
    }

    /// <summary>QEMU prints byte counters in KiB, truncated (<c>value &gt;&gt; 10</c>).</summary>
    private static long KiB(long bytes) => bytes >> 10;

    private static string Fixed2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
