using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// Pages for a pass that has not begun are rejected at once with an error that names the state and the message.
/// They were once applied (pass 1) or left waiting in the pass barrier until the 30 s stall watchdog fired.
/// </summary>
public sealed class PagesBeforePassBeginTests
{
    [Theory]
    [InlineData(0u, 1u)]
    [InlineData(0u, 3u)]
    [InlineData(1u, 2u)]
    public void Pages_of_a_pass_that_has_not_begun_are_rejected_at_once(uint begun, uint pagesPass)
    {
        using var raw = new RawSource();
        raw.Handshake();
        for (uint p = 1; p <= begun; p++) raw.PassBegin(p);
        raw.Pages(pagesPass, 1, w => w.U64(PageRecord.Header(5, PageRecordKind.Zero)));

        var error = raw.ExpectRejection();
        Assert.Contains($"Pages for pass {pagesPass}", error.Text);
        Assert.Contains("PassBegin", error.Text);
        Assert.Contains("receiving RAM", error.Text);
    }

    [Fact]
    public void A_PassEnd_for_a_pass_that_has_not_begun_is_rejected_at_once()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.Send(MessageType.PassEnd, new PassEndMessage(1, 0).Write);

        var error = raw.ExpectRejection();
        Assert.Contains("PassEnd for pass 1", error.Text);
        Assert.Contains("PassBegin", error.Text);
    }
}
