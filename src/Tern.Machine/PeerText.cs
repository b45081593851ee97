using System.Text;

namespace Tern.Machine;

/// <summary>
/// Text that came from the other side of a migration (a backend name, a workload) made fit to appear inside one of
/// this side's messages: quoted, so that 'KVM' and 'kvm' read as the two different names they are; control
/// characters escaped; and cut to a readable length, so that a 4 KiB name cannot hide the message around it or push
/// it over the protocol's string limit.
/// </summary>
public static class PeerText
{
    /// <summary>The most characters of a peer's text a message shows.</summary>
    public const int ShownChars = 64;

    /// <summary>'text', or 'first 64 characters...' (4096 characters) when longer.</summary>
    public static string Quote(string text)
    {
        var shown = new StringBuilder(Math.Min(text.Length, ShownChars) + 2);
        foreach (char c in text.AsSpan(0, Math.Min(text.Length, ShownChars)))
        {
            if (char.IsControl(c)) shown.Append($"\\u{(int)c:x4}");
            else shown.Append(c);
        }
        return text.Length <= ShownChars ? $"'{shown}'" : $"'{shown}...' ({text.Length} characters)";
    }
}
