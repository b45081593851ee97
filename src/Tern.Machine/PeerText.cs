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
        var shown = Escape(text.AsSpan(0, Math.Min(text.Length, ShownChars)));
        return text.Length <= ShownChars ? $"'{shown}'" : $"'{shown}...' ({text.Length} characters)";
    }

    /// <summary>
    /// The text with its control characters written as \uXXXX: for a message of this side's that repeats a peer's
    /// text inside it (a parser's error naming what it could not read).
    /// </summary>
    public static string Escape(ReadOnlySpan<char> text)
    {
        var shown = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsControl(c)) shown.Append($"\\u{(int)c:x4}");
            else shown.Append(c);
        }
        return shown.ToString();
    }
}
