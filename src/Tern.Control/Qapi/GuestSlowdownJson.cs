using System.Text.Json;
using System.Text.Json.Nodes;
using Tern.Migration.Api;

namespace Tern.Control.Qapi;

/// <summary>
/// <see cref="GuestSlowdown"/> as Tern's <c>query-migrate</c> members (numbers; rates in guest progress units a second,
/// the slowdowns as fractions):
/// <code>
///   x-guest-progress-before          summed over the measured vCPUs, in the seconds before the migration
///   x-guest-progress-during          the same while the guest ran during the migration
///   x-guest-slowdown                 mean over the measured vCPUs of 1 - during / before
///   x-guest-slowdown-vcpus           per vCPU, null where not measured (idle)
///   x-guest-progress-before-seconds  x-guest-progress-during-seconds: the windows' lengths
/// </code>
/// </summary>
internal static class GuestSlowdownJson
{
    public static void Add(JsonObject o, GuestSlowdown s)
    {
        o["x-guest-progress-before"] = Finite(s.ProgressBeforePerSecond);
        o["x-guest-progress-during"] = Finite(s.ProgressDuringPerSecond);
        o["x-guest-slowdown"] = Finite(s.Slowdown);
        var perVcpu = new JsonArray();
        foreach (var v in s.VcpuSlowdowns) perVcpu.Add(v is { } f ? JsonValue.Create(Finite(f)) : null);
        o["x-guest-slowdown-vcpus"] = perVcpu;
        o["x-guest-progress-before-seconds"] = Finite(s.BeforeSeconds);
        o["x-guest-progress-during-seconds"] = Finite(s.DuringSeconds);
    }

    /// <summary>The slowdown members of a <c>query-migrate</c> result, or null when it has none.</summary>
    public static GuestSlowdown? Read(JsonElement json)
    {
        if (!json.TryGetProperty("x-guest-slowdown", out _)) return null;
        var perVcpu = new List<double?>();
        if (json.TryGetProperty("x-guest-slowdown-vcpus", out var array))
        {
            if (array.ValueKind != JsonValueKind.Array) throw Bad("x-guest-slowdown-vcpus", "an array of numbers");
            foreach (var e in array.EnumerateArray())
                perVcpu.Add(e.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.Number => e.GetDouble(),
                    _ => throw Bad("x-guest-slowdown-vcpus", "an array of numbers"),
                });
        }
        return new GuestSlowdown(Number(json, "x-guest-progress-before"), Number(json, "x-guest-progress-during"), Number(json, "x-guest-slowdown"),
            perVcpu, Number(json, "x-guest-progress-before-seconds"), Number(json, "x-guest-progress-during-seconds"));
    }

    private static double Number(JsonElement j, string name) =>
        !j.TryGetProperty(name, out var v) ? 0
        : v.ValueKind == JsonValueKind.Number ? v.GetDouble()
        : throw Bad(name, "a number");

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static FormatException Bad(string member, string expected) => new($"query-migrate member '{member}' is not {expected}");
}
