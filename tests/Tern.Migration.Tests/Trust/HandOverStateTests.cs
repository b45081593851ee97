using Tern.Migration.Engine;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Trust;

/// <summary>The source's table of what the destination may send in each hand-over phase (docs/protocol.md, "Who has the VM").</summary>
public sealed class HandOverStateTests
{
    [Fact]
    public void The_honest_sequence_is_accepted()
    {
        var s = new HandOverState();
        ulong token = s.CompleteSent();
        Assert.Null(s.Receive(MessageType.Ready, token));
        s.CommitWritten();
        Assert.Null(s.Receive(MessageType.Resumed));
        Assert.Equal(HandOverPhase.Resumed, s.Phase);
    }

    [Theory]
    [InlineData(0, MessageType.Ready, "sent Ready while the source was still sending the guest (before Complete)")]
    [InlineData(0, MessageType.Resumed, "sent Resumed while the source was still sending the guest")]
    [InlineData(0, MessageType.Welcome, "sent Welcome while the source was still sending the guest")]
    [InlineData(1, MessageType.Resumed, "sent Resumed while the source was waiting for Ready")]
    [InlineData(2, MessageType.Ready, "sent Ready while the source was committing (Ready had already arrived): Ready comes once")]
    [InlineData(2, MessageType.Resumed, "a destination may resume the guest only on Commit")]
    [InlineData(3, MessageType.Ready, "sent Ready while the source was waiting for Resumed after Commit")]
    [InlineData(4, MessageType.Resumed, "Resumed comes once")]
    [InlineData(1, MessageType.Pages, "the return path carries only Ready, Resumed and Error")]
    public void Anything_else_is_a_violation_naming_the_message_and_the_phase(int steps, MessageType type, string expected)
    {
        var s = new HandOverState();
        ulong token = steps >= 1 ? s.CompleteSent() : 0;
        if (steps >= 2) Assert.Null(s.Receive(MessageType.Ready, token));
        if (steps >= 3) s.CommitWritten();
        if (steps >= 4) Assert.Null(s.Receive(MessageType.Resumed));
        var phase = s.Phase;

        var violation = s.Receive(type, token);

        Assert.NotNull(violation);
        Assert.Contains(expected, violation.Message);
        Assert.Equal(phase, s.Phase);
    }

    [Fact]
    public void A_Ready_that_does_not_echo_Completes_token_was_sent_before_Complete_was_read_and_is_a_violation()
    {
        var s = new HandOverState();
        ulong token = s.CompleteSent();

        var violation = s.Receive(MessageType.Ready, token ^ 1);

        Assert.NotNull(violation);
        Assert.Contains("it answered before it had read Complete", violation.Message);
        Assert.Equal(HandOverPhase.AwaitingReady, s.Phase);
        Assert.NotNull(s.Receive(MessageType.Ready)); // no token at all: the same
        Assert.Throws<InvalidOperationException>(s.CommitWritten);
    }

    [Fact]
    public void Each_Complete_carries_a_token_of_its_own_that_is_never_0()
    {
        var tokens = Enumerable.Range(0, 64).Select(_ => new HandOverState().CompleteSent()).ToHashSet();

        Assert.Equal(64, tokens.Count);
        Assert.DoesNotContain(0ul, tokens);
    }

    [Fact]
    public void PostcopyDiscarded_is_accepted_once_and_only_after_PostcopyDiscard()
    {
        var s = new HandOverState();
        Assert.Contains("PostcopyDiscarded answers PostcopyDiscard, once, before the pause", s.Receive(MessageType.PostcopyDiscarded)!.Message);
        s.DiscardSent();
        Assert.Null(s.Receive(MessageType.PostcopyDiscarded));
        Assert.Contains("PostcopyDiscarded answers PostcopyDiscard", s.Receive(MessageType.PostcopyDiscarded)!.Message);
        Assert.Throws<InvalidOperationException>(s.DiscardSent);
        Assert.Equal(HandOverPhase.Sending, s.Phase);
    }

    [Fact]
    public void The_source_cannot_commit_without_a_Ready()
    {
        var s = new HandOverState();
        Assert.Throws<InvalidOperationException>(s.CommitWritten);
        s.CompleteSent();
        Assert.Throws<InvalidOperationException>(s.CommitWritten);
    }
}
