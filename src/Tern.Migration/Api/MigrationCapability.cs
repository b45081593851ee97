namespace Tern.Migration.Api;

/// <summary>
/// Migration capabilities, with QEMU's QAPI names where QEMU has the same feature. Unlike QEMU, Tern's source and
/// destination negotiate these in the migration handshake, and most can be switched during a migration.
/// </summary>
public enum MigrationCapability
{
    Xbzrle,
    Compress,
    Multifd,
    AutoConverge,
    PostcopyRam,
    Events,
    ReturnPath,
    /// <summary><c>dirty-limit</c> (QEMU 8.1): throttle each vCPU that dirties more than <c>vcpu-dirty-limit</c> during a migration.</summary>
    DirtyLimit,
    /// <summary><c>x-verify</c>: compare an end-to-end digest of guest RAM before the destination resumes.</summary>
    Verify,
}

public static class MigrationCapabilityNames
{
    public static string ToQapi(this MigrationCapability c) => c switch
    {
        MigrationCapability.Xbzrle => "xbzrle",
        MigrationCapability.Compress => "compress",
        MigrationCapability.Multifd => "multifd",
        MigrationCapability.AutoConverge => "auto-converge",
        MigrationCapability.PostcopyRam => "postcopy-ram",
        MigrationCapability.Events => "events",
        MigrationCapability.ReturnPath => "return-path",
        MigrationCapability.DirtyLimit => "dirty-limit",
        MigrationCapability.Verify => "x-verify",
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, null),
    };

    public static bool TryParse(string name, out MigrationCapability capability)
    {
        foreach (var c in Enum.GetValues<MigrationCapability>())
        {
            if (c.ToQapi() == name) { capability = c; return true; }
        }
        capability = default;
        return false;
    }
}
