using System.Globalization;
using System.Text;
using Tern.Control.Qmp;
using Tern.Memory;
using Tern.Migration.Api;

namespace Tern.Control.Text;

/// <summary>One line describing a running migration, for <c>tern migrate</c>'s live display and its plain-text log.</summary>
public static class MigrationProgressText
{
    /// <summary>E.g. <c>active, pass 3: 512 MiB sent, 12.3 MiB remaining of 1 GiB, 940.20 mbps, dirtying 1200 pages/s, expected downtime 45 ms</c>.</summary>
    public static string Describe(MigrationProgress progress)
    {
        var info = progress.Info;
        var text = new StringBuilder(info.Status.ToQapi());
        if (progress.Pass > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", pass {progress.Pass}");
        }
        if (info.Ram is { } ram)
        {
            text.Append(CultureInfo.InvariantCulture,
                $": {Size(ram.Transferred)} sent, {Size(ram.Remaining)} remaining of {Size(ram.Total)}, {ram.Mbps:0.00} mbps");
            if (ram.DirtyPagesRate != 0)
            {
                text.Append(CultureInfo.InvariantCulture, $", dirtying {ram.DirtyPagesRate} pages/s");
            }
        }
        if (info.ExpectedDowntimeMs is { } expected)
        {
            text.Append(CultureInfo.InvariantCulture, $", expected downtime {expected} ms");
        }
        if (info.Converging == false)
        {
            text.Append(", not converging");
        }
        if (info.Status is MigrationStatus.PostcopyPaused or MigrationStatus.PostcopyRecover && info.ErrorDesc is { } why)
        {
            text.Append(" (").Append(why).Append(')');
        }
        return text.ToString();
    }

    private static string Size(long bytes) => ByteSize.Format((ulong)Math.Max(0, bytes));
}
