using System.Text;
using Tern.Control.Qmp;

namespace Tern.Control.Tests;

/// <summary>The tokenizer that cuts the input stream into JSON values, tested directly.</summary>
public sealed class MessageSplitterTests
{
    private static List<QmpFrame> Split(string input, int max = 1 << 20, int chunk = int.MaxValue)
    {
        var splitter = new QmpMessageSplitter(max);
        var frames = new List<QmpFrame>();
        foreach (var piece in Encoding.UTF8.GetBytes(input).Chunk(Math.Min(chunk, Math.Max(1, input.Length))))
        {
            splitter.Feed(piece, frames);
        }
        return frames;
    }

    private static string Text(QmpFrame f) => f.Json is { } j ? Encoding.UTF8.GetString(j) : "ERROR: " + f.Error;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(int.MaxValue)]
    public void Values_are_cut_at_their_end_whatever_the_chunking(int chunk)
    {
        var frames = Split("{\"a\": \"}{\\\"\"}[1,[2]]\n\"s}\" 42 null{}", chunk: chunk);

        Assert.Equal(["{\"a\": \"}{\\\"\"}", "[1,[2]]", "\"s}\"", "42", "null", "{}"], frames.Select(Text));
    }

    [Fact]
    public void A_scalar_waits_for_its_delimiter()
    {
        Assert.Empty(Split("12"));
        Assert.Equal(["12"], Split("12 ").Select(Text));
    }

    [Fact]
    public void Stray_closers_are_errors_and_do_not_swallow_what_follows()
    {
        var frames = Split("}]{\"x\":1}");

        Assert.Equal(3, frames.Count);
        Assert.NotNull(frames[0].Error);
        Assert.NotNull(frames[1].Error);
        Assert.Equal("{\"x\":1}", Text(frames[2]));
    }

    [Fact]
    public void Byte_FF_discards_the_partial_value()
    {
        var splitter = new QmpMessageSplitter(1024);
        var frames = new List<QmpFrame>();

        splitter.Feed([.. "{\"a\": [1, "u8, 0xFF, .. "{\"b\":2}"u8], frames);

        Assert.Equal(["ERROR: JSON parse error, stray byte 0xFF", "{\"b\":2}"], frames.Select(Text));
    }

    [Fact]
    public void An_oversize_value_is_reported_once_and_skipped_to_its_end()
    {
        var big = "{\"pad\": \"" + new string('x', 500) + "}]\", \"more\": [" + string.Join(",", Enumerable.Repeat("{\"y\":\"]\"}", 50)) + "]}";

        var frames = Split(big + " {\"ok\":1}", max: 100);

        Assert.Equal(["ERROR: JSON parse error, message longer than 100 bytes", "{\"ok\":1}"], frames.Select(Text));
    }

    [Fact]
    public void A_value_exactly_at_the_cap_is_accepted()
    {
        var value = "{\"k\":\"" + new string('v', 100 - 8) + "\"}";
        Assert.Equal(100, value.Length);

        Assert.Equal([value], Split(value, max: 100).Select(Text));
        Assert.NotNull(Split(value.Insert(1, " "), max: 100)[0].Error);
    }
}
