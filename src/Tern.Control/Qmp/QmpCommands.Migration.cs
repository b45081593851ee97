using System.Text.Json.Nodes;
using Tern.Control.Qapi;

namespace Tern.Control.Qmp;

/// <summary>Commands that start, watch and cancel migrations.</summary>
internal sealed partial class QmpCommands
{
    // migrate: {uri: str, *blk: bool, *inc: bool, *detach: bool, *resume: bool}
    private JsonNode? Migrate(QmpArguments args)
    {
        var uri = args.RequireString("uri");
        var blk = args.OptionalBool("blk") ?? false;
        var inc = args.OptionalBool("inc") ?? false;
        _ = args.OptionalBool("detach");   // QMP's migrate always runs detached; QEMU ignores it too
        var resume = args.OptionalBool("resume") ?? false;
        args.EnsureNoneLeft();

        if (blk || inc)
        {
            throw QmpCommandException.Generic(
                "Tern does not migrate disks (blk/inc block migration): put guest disks on shared storage, " +
                "or copy them before migrating");
        }
        if (resume)
        {
            _vm.ResumeMigration(uri);
            return null;
        }
        _vm.StartMigration(uri);
        return null;
    }

    // migrate-incoming: {uri: str}
    private JsonNode? MigrateIncoming(QmpArguments args)
    {
        var uri = args.RequireString("uri");
        args.EnsureNoneLeft();
        _vm.StartIncoming(uri);
        return null;
    }

    // migrate-recover: {uri: str} (destination, post-copy paused): listen there for the source's resume
    private JsonNode? MigrateRecover(QmpArguments args)
    {
        var uri = args.RequireString("uri");
        args.EnsureNoneLeft();
        _vm.RecoverIncoming(uri);
        return null;
    }

    // migrate-pause (either side, post-copy active): break the link on purpose
    private JsonNode? MigratePause(QmpArguments args)
    {
        args.EnsureNoneLeft();
        _vm.PauseMigration();
        return null;
    }

    private JsonNode? MigrateCancel(QmpArguments args)
    {
        args.EnsureNoneLeft();
        _vm.CancelMigration();
        return null;
    }

    private JsonNode? MigrateStartPostcopy(QmpArguments args)
    {
        args.EnsureNoneLeft();
        _vm.StartPostcopy();
        return null;
    }

    private JsonNode? QueryMigrate(QmpArguments args)
    {
        args.EnsureNoneLeft();
        return MigrationInfoJson.ToJson(_vm.QueryMigrate());
    }

    // x-query-migrate-history: {*since: int} -> [PassReport], the passes after pass `since` (all by default)
    private JsonNode? QueryMigrateHistory(QmpArguments args)
    {
        long since = (long)(args.OptionalUnsigned("since", long.MaxValue, "int64") ?? 0);
        args.EnsureNoneLeft();
        var list = new JsonArray();
        foreach (var report in _vm.QueryMigrateHistory())
            if (report.Pass > since) list.Add(PassReportJson.ToJson(report));
        return list;
    }
}
