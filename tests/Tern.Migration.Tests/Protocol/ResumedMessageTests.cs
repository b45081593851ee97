using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Protocol;

/// <summary>Resumed carries how long the destination held it back with the guest running; that time cannot be negative.</summary>
public sealed class ResumedMessageTests
{
    [Fact]
    public void Resumed_round_trips_with_the_time_it_was_held_back()
    {
        var payload = new PayloadWriter();
        new ResumedMessage(1_700_000_000_000_000_000, 1_700_000_000_001_000_000, 1_250_000).Write(payload);
        Assert.Equal(new ResumedMessage(1_700_000_000_000_000_000, 1_700_000_000_001_000_000, 1_250_000), ResumedMessage.Read(payload.WrittenSpan));
    }

    [Fact]
    public void A_negative_hold_is_a_protocol_error_that_says_so()
    {
        var payload = new PayloadWriter();
        new ResumedMessage(1, 2, -5).Write(payload);
        var e = Assert.Throws<ProtocolException>(() => ResumedMessage.Read(payload.WrittenSpan));
        Assert.Contains("held it back for -5 ns (negative)", e.Message);
    }
}
