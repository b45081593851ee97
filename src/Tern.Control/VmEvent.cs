using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Control;

/// <summary>
/// An event a VM reports to its QMP clients: the QAPI event <paramref name="Name"/> and its <c>data</c> member
/// (null for events without data, such as <c>STOP</c>). <see cref="JsonElement"/> is immutable, so one event can be
/// handed to every client without copying.
/// </summary>
public sealed record VmEvent(string Name, JsonElement? Data = null)
{
    /// <summary><c>MIGRATION</c>: the migration status changed.</summary>
    public static VmEvent Migration(MigrationStatus status) =>
        WithData("MIGRATION", new JsonObject { ["status"] = status.ToQapi() });

    /// <summary><c>MIGRATION_PASS</c>: a new pass over dirty RAM started (the first pass is 1).</summary>
    public static VmEvent MigrationPass(long pass) =>
        WithData("MIGRATION_PASS", new JsonObject { ["pass"] = pass });

    /// <summary><c>STOP</c>: the vCPUs paused.</summary>
    public static VmEvent Stop() => new("STOP");

    /// <summary><c>RESUME</c>: the vCPUs run again.</summary>
    public static VmEvent Resume() => new("RESUME");

    /// <summary><c>SHUTDOWN</c>: the VM is shutting down; <paramref name="reason"/> is a QAPI <c>ShutdownCause</c> such as <c>host-qmp-quit</c>.</summary>
    public static VmEvent Shutdown(bool guest, string reason) =>
        WithData("SHUTDOWN", new JsonObject { ["guest"] = guest, ["reason"] = reason });

    /// <summary>An event whose data is a JSON object built by the caller.</summary>
    public static VmEvent WithData(string name, JsonObject data) =>
        new(name, JsonSerializer.SerializeToElement(data));
}
