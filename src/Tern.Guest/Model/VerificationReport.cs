using System.Globalization;
using System.Text;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>One place where guest memory differs from what the counters imply.</summary>
/// <param name="Vcpu">The vCPU whose slice holds the page.</param>
/// <param name="Offset">Byte offset in the page of <see cref="Expected"/>/<see cref="Actual"/>.</param>
public sealed record VerificationMismatch(int Vcpu, PageIndex Page, int Offset, IReadOnlyList<byte> Expected, IReadOnlyList<byte> Actual)
{
    public GuestAddress Address => Page.Address.Add((ulong)Offset);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"vCPU {Vcpu} page 0x{Page.Value:x} (GPA 0x{Address.Value:x}) offset 0x{Offset:x}: expected {Hex(Expected)}, found {Hex(Actual)}");

    private static string Hex(IReadOnlyList<byte> bytes) => Convert.ToHexString([.. bytes]).ToLowerInvariant();
}

/// <summary>The result of <see cref="WorkloadModel.Verify{TPages}"/>.</summary>
/// <param name="Mismatches">The first mismatches found (up to the limit asked for).</param>
/// <param name="MismatchCount">All mismatching 8-byte slots, bytes or non-zero runs found (at least Mismatches.Count).</param>
/// <param name="InFlightWriteApplied">Per vCPU: whether its one ambiguous write (index = its counter) was found in memory.</param>
/// <param name="PagesChecked">Working-set pages compared byte for byte.</param>
public sealed record VerificationReport(
    IReadOnlyList<VerificationMismatch> Mismatches,
    ulong MismatchCount,
    IReadOnlyList<bool> InFlightWriteApplied,
    ulong PagesChecked)
{
    public bool IsExact => MismatchCount == 0;

    public override string ToString()
    {
        var applied = InFlightWriteApplied.Select((a, v) => (a, v)).Where(x => x.a).Select(x => x.v.ToString(CultureInfo.InvariantCulture)).ToList();
        string inFlight = applied.Count == 0 ? "no in-flight write found" : $"in-flight write found on vCPU {string.Join(", ", applied)}";
        if (IsExact) return $"working set matches the counters ({PagesChecked} pages checked; {inFlight})";
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{MismatchCount} mismatches in {PagesChecked} pages ({inFlight}); first:");
        foreach (var m in Mismatches) sb.Append("\n  ").Append(m);
        return sb.ToString();
    }
}
