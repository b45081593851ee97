using System.Text.Json.Nodes;

namespace Tern.Control.Qmp;

/// <summary>Tern's own commands about the guest and its workload (QEMU's <c>x-</c> prefix: not in QEMU's schema).</summary>
internal sealed partial class QmpCommands
{
    /// <summary>How many mismatches x-check-guest lists unless asked otherwise (all are counted).</summary>
    private const int DefaultMaxMismatches = 8;

    private JsonNode? QueryGuest(QmpArguments args)
    {
        args.EnsureNoneLeft();
        var guest = _vm.QueryGuest() ?? throw new VmControlException("there is no guest here yet");
        var progress = new JsonArray();
        foreach (var p in guest.Progress) progress.Add(p);
        return new JsonObject
        {
            ["workload"] = guest.Workload,
            ["status"] = guest.Status,
            ["heartbeats"] = guest.Heartbeats,
            ["progress"] = progress,
        };
    }

    private JsonNode? CheckGuest(QmpArguments args)
    {
        int max = (int)(args.OptionalUnsigned("max-mismatches", byte.MaxValue, "uint8") ?? DefaultMaxMismatches);
        args.EnsureNoneLeft();
        var check = _vm.CheckGuest(max);
        var counters = new JsonArray();
        foreach (var c in check.Counters) counters.Add(c);
        var mismatches = new JsonArray();
        foreach (var m in check.Report.Mismatches)
        {
            mismatches.Add(new JsonObject
            {
                ["vcpu"] = m.Vcpu,
                ["page"] = m.Page.Value,
                ["address"] = m.Address.Value,
                ["offset"] = m.Offset,
                ["expected"] = Convert.ToHexStringLower([.. m.Expected]),
                ["actual"] = Convert.ToHexStringLower([.. m.Actual]),
            });
        }
        return new JsonObject
        {
            ["workload"] = check.Workload,
            ["exact"] = check.Report.IsExact,
            ["pages-checked"] = check.Report.PagesChecked,
            ["mismatch-count"] = check.Report.MismatchCount,
            ["mismatches"] = mismatches,
            ["counters"] = counters,
            ["paused-us"] = (long)(check.Paused.Ticks / TimeSpan.TicksPerMicrosecond),
            ["report"] = check.Report.ToString(),
        };
    }
}
