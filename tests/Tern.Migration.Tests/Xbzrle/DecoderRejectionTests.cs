using Tern.Migration.Xbzrle;
using Xunit;

namespace Tern.Migration.Tests.Xbzrle;

/// <summary>Each way QEMU's decoder rejects an encoding, crafted by hand: Tern rejects it too, names it, and stays in the page.</summary>
public class DecoderRejectionTests
{
    public static TheoryData<string, byte[], XbzrleDecodeError, int> Invalid()
    {
        byte[] tooLongForInput = [0x00, 0x05, 1, 2, 3, 4];
        return new TheoryData<string, byte[], XbzrleDecodeError, int>
        {
            { "a single byte", [0x05], XbzrleDecodeError.TruncatedLength, 0 },
            { "zrun without nzrun", [0x05, 0x01, 0xAA, 0x05], XbzrleDecodeError.TruncatedLength, 3 },
            { "one byte where an nzrun length should start", [0x05, 0x01, 0xAA, 0x05, 0x01], XbzrleDecodeError.TruncatedLength, 4 },
            { "nothing after a 2-byte zrun", [0x80, 0x01], XbzrleDecodeError.TruncatedLength, 2 },
            { "three-byte zrun length", [0x80, 0x80, 0x01, 0x01, 0x00], XbzrleDecodeError.LengthTooLong, 0 },
            { "three-byte nzrun length", [0x01, 0x80, 0x80, 0x01], XbzrleDecodeError.LengthTooLong, 1 },
            { "empty zrun after the start", [0x01, 0x01, 0xAA, 0x00, 0x01, 0xBB], XbzrleDecodeError.EmptyUnchangedRun, 3 },
            { "empty zrun in non-shortest form", [0x01, 0x01, 0xAA, 0x80, 0x00, 0x01, 0xBB], XbzrleDecodeError.EmptyUnchangedRun, 3 },
            { "empty nzrun", [0x05, 0x00, 0x01, 0x01], XbzrleDecodeError.EmptyChangedRun, 1 },
            { "empty nzrun in non-shortest form", [0x05, 0x80, 0x00, 0x01], XbzrleDecodeError.EmptyChangedRun, 1 },
            { "zrun of 16383", [0xFF, 0x7F, 0x01, 0xAA], XbzrleDecodeError.UnchangedRunPastPage, 0 },
            { "zrun of 4097", [0x81, 0x20, 0x01, 0xAA], XbzrleDecodeError.UnchangedRunPastPage, 0 },
            { "zrun of 4096 then an nzrun", [0x80, 0x20, 0x01, 0xAA], XbzrleDecodeError.ChangedRunPastPage, 2 },
            { "nzrun past the page end", [0xFF, 0x1F, 0x02, 0xAA, 0xBB], XbzrleDecodeError.ChangedRunPastPage, 2 },
            { "nzrun of 16383", [0x00, 0xFF, 0x7F, 0xAA], XbzrleDecodeError.ChangedRunPastPage, 1 },
            { "nzrun longer than the input", tooLongForInput, XbzrleDecodeError.ChangedBytesPastInput, 1 },
        };
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void RejectsLikeQemu(string what, byte[] encoded, XbzrleDecodeError expected, int offset)
    {
        var old = PagePairs.RandomPage(new Random(3));
        Assert.Equal(-1, QemuReference.Decode(encoded, (byte[])old.Clone()));
        foreach (bool vectorCopies in new[] { false, true })
        {
            var page = new GuardedBuffer(old);
            var result = XbzrleDecoder.Decode(encoded, page.Window, vectorCopies);
            Assert.False(result.IsSuccess, what);
            Assert.Equal(expected, result.Error);
            Assert.Equal(offset, result.InputOffset);
            Assert.Contains($"offset {offset}", result.Describe());
            Assert.True(page.GuardsIntact(), $"{what}: wrote outside the page");
        }
    }

    [Fact]
    public void MessagesNameTheRunAndWhereItWouldLand()
    {
        var result = XbzrleDecoder.Decode([0xFF, 0x1F, 0x02, 0xAA, 0xBB], new byte[4096]);
        Assert.Equal("offset 2: changed run of 2 bytes at page offset 4095 runs past the end of the page", result.Describe());
        Assert.Equal(4095, result.PageOffset);
        Assert.Equal(2, result.RunLength);
    }

    [Fact]
    public void RejectsAPageOfTheWrongSize()
    {
        Assert.Throws<ArgumentException>(() => XbzrleDecoder.Decode([0x00, 0x01, 0x01], new byte[4095]));
    }
}
