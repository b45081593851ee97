using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// After Ready, Commit is the source's commit point and the first thing it sends once it has given the VM up. So an
/// Error, or any frame that is not a Commit, means the source did not commit: the destination discards its copy
/// (and stays available) instead of keeping a paused copy for an uncertain hand-over. It once kept the copy, paused,
/// and stopped listening, on a protocol violation.
/// </summary>
public sealed class NoCommitAfterReadyTests
{
    [Fact]
    public void An_unknown_frame_instead_of_Commit_discards_the_copy()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.DriveToReady();
        raw.Stream.Write(RawFrameHeader.Build(99, 0, 0, 0));
        Assert.Contains("unknown message type 99", raw.ExpectRejection().Text);
    }

    [Fact]
    public void A_message_out_of_place_instead_of_Commit_discards_the_copy()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.DriveToReady();
        raw.PassBegin(2);
        Assert.Contains("unexpected PassBegin message while waiting for the source to commit the hand-over", raw.ExpectRejection().Text);
    }

    [Fact]
    public void The_source_s_Error_instead_of_Commit_discards_the_copy()
    {
        using var raw = new RawSource();
        raw.Handshake();
        raw.DriveToReady();
        raw.Send(MessageType.Error, new ErrorMessage(ErrorMessage.Cancelled, "cancelled by the operator").Write);
        raw.WaitFinished();
        Assert.Equal(Tern.Migration.Engine.DestinationState.Discarded, raw.Destination.State);
        Assert.Contains("the source cancelled the migration", raw.Destination.Info().ErrorDesc);
    }
}
