using System.Text.Json.Nodes;
using Tern.Control.Qapi;

namespace Tern.Control.Qmp;

/// <summary>
/// QEMU's per-vCPU dirty limit commands (since 7.1): <c>set-vcpu-dirty-limit</c>, <c>cancel-vcpu-dirty-limit</c> and
/// <c>query-vcpu-dirty-limit</c>. One difference: QEMU treats a <c>dirty-rate</c> of 0 as a cancel; Tern refuses it
/// and says to cancel, so a typo never lifts a limit silently.
/// </summary>
internal sealed partial class QmpCommands
{
    // set-vcpu-dirty-limit: {*cpu-index: int, dirty-rate: uint64}
    private JsonNode? SetVcpuDirtyLimit(QmpArguments args)
    {
        long? cpuIndex = args.OptionalSigned("cpu-index");
        ulong rate = args.OptionalUnsigned("dirty-rate", ulong.MaxValue, "uint64")
            ?? throw QmpCommandException.Generic("Parameter 'dirty-rate' is missing");
        args.EnsureNoneLeft();
        _vm.SetVcpuDirtyLimit(cpuIndex, rate);
        return null;
    }

    // cancel-vcpu-dirty-limit: {*cpu-index: int}
    private JsonNode? CancelVcpuDirtyLimit(QmpArguments args)
    {
        long? cpuIndex = args.OptionalSigned("cpu-index");
        args.EnsureNoneLeft();
        _vm.CancelVcpuDirtyLimit(cpuIndex);
        return null;
    }

    // query-vcpu-dirty-limit: returns [DirtyLimitInfo]
    private JsonNode? QueryVcpuDirtyLimit(QmpArguments args)
    {
        args.EnsureNoneLeft();
        return DirtyLimitInfoJson.ToJson(_vm.QueryVcpuDirtyLimit());
    }
}
