using Tern.Migration.Engine;

namespace Tern.Migration.Tests.Trust;

/// <summary>A peer's text as the operator sees it: no terminal escapes, control characters shown, length capped.</summary>
public sealed class RemoteTextTests
{
    [Theory]
    [InlineData("plain reason", "plain reason")]
    [InlineData("\u001b[1;31mred\u001b[0m text", "red text")]
    [InlineData("a\u001b]0;title\u0007b", "ab")]
    [InlineData("a\u001b]8;;http://x\u001b\\link", "alink")]
    [InlineData("a\u009b2Jb", "ab")]
    [InlineData("bell\u0007 nul\0 del\u007f", "bell\\x07 nul\\x00 del\\x7f")]
    [InlineData("line\r\nnext", "line\\x0d\\x0anext")]
    [InlineData("abc\u202edef", "abc\\u202edef")]
    [InlineData("unterminated \u001b[", "unterminated ")]
    [InlineData("ends with escape \u001b", "ends with escape ")]
    [InlineData("héllo wörld ✓", "héllo wörld ✓")]
    public void Escapes_are_removed_and_control_characters_shown(string remote, string shown) =>
        Assert.Equal(shown, RemoteText.Sanitize(remote));

    [Fact]
    public void Long_text_is_capped_and_says_how_much_was_cut()
    {
        var shown = RemoteText.Sanitize(new string('y', 10_000));
        Assert.Equal(new string('y', RemoteText.MaxChars) + "... (9488 more characters)", shown);
    }
}
