using System.Globalization;

namespace Tern.Guest;

/// <summary>
/// A CPU exception the guest took, as its handler recorded it in the control page before reporting on the
/// panic port and halting.
/// </summary>
public sealed record GuestPanic(int VcpuIndex, int Vector, ulong ErrorCode, ulong Rip, ulong Cs, ulong Rflags, ulong Rsp, ulong Ss, ulong Cr2)
{
    private static readonly string[] Mnemonics =
    [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "coprocessor segment overrun", "#TS", "#NP", "#SS", "#GP", "#PF", "reserved vector 15",
        "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    ];

    /// <summary>The exception's short name (#PF, #GP, ...).</summary>
    public string Mnemonic => Vector >= 0 && Vector < Mnemonics.Length
        ? Mnemonics[Vector]
        : Vector < 32 ? $"reserved vector {Vector}" : $"vector {Vector}";

    /// <summary>True for the vectors that push an error code.</summary>
    public bool HasErrorCode => Vector is 8 or 10 or 11 or 12 or 13 or 14 or 17 or 21 or 29 or 30;

    public override string ToString()
    {
        string text = string.Create(CultureInfo.InvariantCulture,
            $"guest vCPU {VcpuIndex} took {Mnemonic} (vector {Vector}) at rip 0x{Rip:x}");
        if (Vector == 14) text += string.Create(CultureInfo.InvariantCulture, $" cr2 0x{Cr2:x}");
        if (HasErrorCode) text += string.Create(CultureInfo.InvariantCulture, $" error code 0x{ErrorCode:x}");
        return text + string.Create(CultureInfo.InvariantCulture, $" (cs 0x{Cs:x} rsp 0x{Rsp:x} rflags 0x{Rflags:x})");
    }
}
