namespace Tern.Migration.Api;

/// <summary>Migration status, with the names of QEMU's QAPI <c>MigrationStatus</c> enum.</summary>
public enum MigrationStatus
{
    None,
    Setup,
    Cancelling,
    Cancelled,
    Active,
    PostcopyActive,
    PostcopyPaused,
    PostcopyRecover,
    Completed,
    Failed,
    PreSwitchover,
    Device,
}

public static class MigrationStatusNames
{
    /// <summary>The QAPI spelling, e.g. <c>postcopy-active</c>.</summary>
    public static string ToQapi(this MigrationStatus status) => status switch
    {
        MigrationStatus.None => "none",
        MigrationStatus.Setup => "setup",
        MigrationStatus.Cancelling => "cancelling",
        MigrationStatus.Cancelled => "cancelled",
        MigrationStatus.Active => "active",
        MigrationStatus.PostcopyActive => "postcopy-active",
        MigrationStatus.PostcopyPaused => "postcopy-paused",
        MigrationStatus.PostcopyRecover => "postcopy-recover",
        MigrationStatus.Completed => "completed",
        MigrationStatus.Failed => "failed",
        MigrationStatus.PreSwitchover => "pre-switchover",
        MigrationStatus.Device => "device",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>Parses a QAPI spelling such as <c>postcopy-active</c>; false for a name QAPI does not define.</summary>
    public static bool TryParse(string name, out MigrationStatus status)
    {
        foreach (var s in Enum.GetValues<MigrationStatus>())
        {
            if (s.ToQapi() == name) { status = s; return true; }
        }
        status = default;
        return false;
    }

    public static bool IsFinished(this MigrationStatus status) =>
        status is MigrationStatus.Completed or MigrationStatus.Failed or MigrationStatus.Cancelled;
}
