using System.Globalization;
using System.Text;

namespace Tern.Migration.Engine;

/// <summary>
/// Text that came from the other side (an Error's reason) made fit to show an operator: a peer controls those bytes,
/// so terminal escape sequences are removed, other control and formatting characters (newlines, bidi overrides) are
/// shown as <c>\xNN</c> / <c>\uNNNN</c>, and the length is capped.
/// </summary>
internal static class RemoteText
{
    /// <summary>Longer than any reason Tern writes; a peer's text past this is cut.</summary>
    public const int MaxChars = 512;

    private const char Escape = '\u001b';

    public static string Sanitize(string text)
    {
        var shown = new StringBuilder(Math.Min(text.Length, MaxChars) + 16);
        int i = 0;
        for (; i < text.Length && shown.Length < MaxChars; i++)
        {
            char c = text[i];
            if (c == Escape || c == '\u009b')
            {
                i = EndOfEscapeSequence(text, i);
                continue;
            }
            if (char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
                shown.Append(c <= 0xff ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
            else shown.Append(c);
        }
        if (i < text.Length) shown.Append($"... ({text.Length - i} more characters)");
        return shown.ToString();
    }

    /// <summary>The index of the last character of the escape sequence starting at <paramref name="start"/>.</summary>
    private static int EndOfEscapeSequence(string text, int start)
    {
        int i = start + 1;
        bool csi = text[start] == '\u009b';
        if (!csi && i < text.Length && text[i] == '[') { csi = true; i++; }
        else if (!csi && i < text.Length && text[i] is ']' or 'P' or '_' or '^')
        {
            // OSC, DCS, APC, PM: up to BEL or ESC \ (string terminator).
            for (i++; i < text.Length; i++)
            {
                if (text[i] == '\u0007') return i;
                if (text[i] == Escape && i + 1 < text.Length && text[i + 1] == '\\') return i + 1;
            }
            return text.Length - 1;
        }
        if (csi)
        {
            // Parameters and intermediates, then one final byte in @..~.
            while (i < text.Length && text[i] is >= '\u0020' and <= '\u003f') i++;
            return Math.Min(i, text.Length - 1);
        }
        return Math.Min(i, text.Length - 1); // ESC and one character (ESC c, ESC 7, ...)
    }
}
