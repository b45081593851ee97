using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Control.Qmp;

/// <summary>Commands about the QMP server itself and the VM's run state.</summary>
internal sealed partial class QmpCommands
{
    /// <summary>The QEMU version Tern's QMP follows: clients such as libvirt gate features on it.</summary>
    public static readonly (int Major, int Minor, int Micro) CompatibleQemuVersion = (7, 2, 0);

    /// <summary>QAPI <c>VersionInfo</c>, also the <c>version</c> member of the greeting.</summary>
    public static JsonObject VersionInfo(string package) => new()
    {
        ["qemu"] = new JsonObject
        {
            ["micro"] = CompatibleQemuVersion.Micro,
            ["minor"] = CompatibleQemuVersion.Minor,
            ["major"] = CompatibleQemuVersion.Major,
        },
        ["package"] = package,
    };

    private JsonNode? QueryVersion(QmpArguments args)
    {
        args.EnsureNoneLeft();
        return VersionInfo(_package);
    }

    private JsonNode? QueryCommands(QmpArguments args)
    {
        args.EnsureNoneLeft();
        var list = new JsonArray();
        foreach (var name in Names)
        {
            list.Add(new JsonObject { ["name"] = name });
        }
        return list;
    }

    private JsonNode? QueryStatus(QmpArguments args)
    {
        args.EnsureNoneLeft();
        var state = _vm.RunState;
        return new JsonObject
        {
            ["running"] = state == RunState.Running,
            ["singlestep"] = false,
            ["status"] = state.ToQapi(),
        };
    }

    private JsonNode? Stop(QmpArguments args)
    {
        args.EnsureNoneLeft();
        _vm.Stop();
        return null;
    }

    private JsonNode? Cont(QmpArguments args)
    {
        args.EnsureNoneLeft();
        _vm.Cont();
        return null;
    }

    private JsonNode? Quit(QmpArguments args)
    {
        args.EnsureNoneLeft();
        _vm.Quit();
        return null;
    }
}
