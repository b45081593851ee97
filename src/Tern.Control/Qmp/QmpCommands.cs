using System.Text.Json.Nodes;

namespace Tern.Control.Qmp;

/// <summary>
/// The QMP commands a Tern VM serves, with QEMU 7.2's names and argument shapes. Each handler reads every argument
/// first (through <see cref="QmpArguments"/>, which reports bad ones), calls <see cref="QmpArguments.EnsureNoneLeft"/>,
/// and only then acts on the VM, so a rejected command never has half an effect. A handler returns the <c>return</c>
/// value, or null for QEMU's empty <c>{}</c>. The commands are split by role into partial files.
/// </summary>
internal sealed partial class QmpCommands
{
    /// <summary>Handled by the dispatcher (it changes the connection's mode), listed here so query-commands shows it.</summary>
    public const string Capabilities = "qmp_capabilities";

    private readonly IVmControl _vm;
    private readonly string _package;
    private readonly Dictionary<string, Func<QmpArguments, JsonNode?>> _handlers;

    public QmpCommands(IVmControl vm, string package)
    {
        _vm = vm;
        _package = package;
        _handlers = new(StringComparer.Ordinal)
        {
            ["query-version"] = QueryVersion,
            ["query-commands"] = QueryCommands,
            ["query-status"] = QueryStatus,
            ["stop"] = Stop,
            ["cont"] = Cont,
            ["quit"] = Quit,
            ["migrate"] = Migrate,
            ["migrate-incoming"] = MigrateIncoming,
            ["migrate_cancel"] = MigrateCancel,
            ["migrate-start-postcopy"] = MigrateStartPostcopy,
            ["migrate-recover"] = MigrateRecover,
            ["migrate-pause"] = MigratePause,
            ["query-migrate"] = QueryMigrate,
            ["x-query-migrate-history"] = QueryMigrateHistory,
            ["query-migrate-capabilities"] = QueryMigrateCapabilities,
            ["migrate-set-capabilities"] = MigrateSetCapabilities,
            ["query-migrate-parameters"] = QueryMigrateParameters,
            ["migrate-set-parameters"] = MigrateSetParameters,
            ["calc-dirty-rate"] = CalcDirtyRate,
            ["query-dirty-rate"] = QueryDirtyRate,
            ["set-vcpu-dirty-limit"] = SetVcpuDirtyLimit,
            ["cancel-vcpu-dirty-limit"] = CancelVcpuDirtyLimit,
            ["query-vcpu-dirty-limit"] = QueryVcpuDirtyLimit,
            ["x-query-guest"] = QueryGuest,
            ["x-check-guest"] = CheckGuest,
        };
    }

    /// <summary>Every command name, <c>qmp_capabilities</c> included.</summary>
    public IEnumerable<string> Names => _handlers.Keys.Prepend(Capabilities);

    public bool TryGet(string name, out Func<QmpArguments, JsonNode?> handler) =>
        _handlers.TryGetValue(name, out handler!);
}
