using System.Text.Json.Nodes;
using Tern.Control.DirtyRate;
using Tern.Control.Qapi;

namespace Tern.Control.Qmp;

/// <summary>QEMU 7.2's dirty-rate commands: <c>calc-dirty-rate</c> starts a measurement, <c>query-dirty-rate</c> reads it.</summary>
internal sealed partial class QmpCommands
{
    // calc-dirty-rate: {calc-time: int64, *sample-pages: int, *mode: DirtyRateMeasureMode}
    private JsonNode? CalcDirtyRate(QmpArguments args)
    {
        long calcTime = args.RequireSigned("calc-time");
        long? samplePages = args.OptionalSigned("sample-pages");
        var mode = args.OptionalEnum<DirtyRateMode>("mode", DirtyRateModeNames.TryParse) ?? DirtyRateMode.PageSampling;
        args.EnsureNoneLeft();
        var request = new DirtyRateRequest(calcTime, samplePages, mode);
        if (request.Problem() is { } problem) throw QmpCommandException.Generic(problem);
        _vm.CalcDirtyRate(request);
        return null;
    }

    private JsonNode? QueryDirtyRate(QmpArguments args)
    {
        args.EnsureNoneLeft();
        return DirtyRateInfoJson.ToJson(_vm.QueryDirtyRate());
    }
}
