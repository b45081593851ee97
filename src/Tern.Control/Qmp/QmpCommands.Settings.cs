using System.Text.Json.Nodes;
using Tern.Control.Qapi;
using Tern.Migration.Api;

namespace Tern.Control.Qmp;

/// <summary>Commands that read and change migration capabilities and parameters.</summary>
internal sealed partial class QmpCommands
{
    /// <summary>Serializes read-modify-write of the parameters, so two clients' partial updates cannot lose each other.</summary>
    private readonly Lock _parametersLock = new();

    private JsonNode? QueryMigrateCapabilities(QmpArguments args)
    {
        args.EnsureNoneLeft();
        var states = _vm.GetCapabilities();
        var list = new JsonArray();
        foreach (var capability in Enum.GetValues<MigrationCapability>())
        {
            list.Add(new JsonObject
            {
                ["capability"] = capability.ToQapi(),
                ["state"] = states.TryGetValue(capability, out var on) && on,
            });
        }
        return list;
    }

    // migrate-set-capabilities: {capabilities: [{capability: MigrationCapability, state: bool}]}
    private JsonNode? MigrateSetCapabilities(QmpArguments args)
    {
        var items = args.RequireArray("capabilities");
        var changes = new Dictionary<MigrationCapability, bool>();
        for (var i = 0; i < items.Count; i++)
        {
            var item = args.ObjectElement("capabilities", i, items[i]);
            var capability = item.RequireEnum<MigrationCapability>("capability", MigrationCapabilityNames.TryParse);
            var state = item.RequireBool("state");
            item.EnsureNoneLeft();
            changes[capability] = state;   // a later entry for the same capability wins, as in QEMU
        }
        args.EnsureNoneLeft();
        _vm.SetCapabilities(changes);
        return null;
    }

    private JsonNode? QueryMigrateParameters(QmpArguments args)
    {
        args.EnsureNoneLeft();
        return MigrationParametersJson.ToJson(_vm.GetParameters());
    }

    // migrate-set-parameters: every member optional; absent members keep their value.
    private JsonNode? MigrateSetParameters(QmpArguments args)
    {
        lock (_parametersLock)
        {
            var updated = MigrationParametersJson.ApplyUpdate(_vm.GetParameters(), args);
            if (updated.Validate() is { } problem)
            {
                throw QmpCommandException.Generic(problem);
            }
            _vm.SetParameters(updated);
        }
        return null;
    }
}
