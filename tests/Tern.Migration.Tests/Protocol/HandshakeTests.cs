using Tern.Migration.Api;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Protocol;

/// <summary>Hello and Welcome through a real socket: versions, capabilities, and what the destination refuses.</summary>
public sealed class HandshakeTests
{
    [Fact]
    public void The_destination_accepts_the_intersection_of_the_offer_and_what_it_implements()
    {
        using var raw = new RawSource();
        const ProtocolCapability unknownToThisTern = (ProtocolCapability)(1UL << 40);
        var welcome = raw.Handshake(offered: ProtocolCapability.Xbzrle | ProtocolCapability.Verify | unknownToThisTern);

        Assert.Equal(ProtocolCapability.Xbzrle | ProtocolCapability.Verify, welcome.Accepted);
        Assert.Equal(ProtocolConstants.MaxVersion, welcome.Version);
    }

    [Fact]
    public void The_destination_picks_the_highest_common_version()
    {
        using var raw = new RawSource();
        var welcome = raw.Handshake(RawSource.Hello(minVersion: 1, maxVersion: 9));
        Assert.Equal(ProtocolConstants.MaxVersion, welcome.Version);
    }

    [Theory]
    [InlineData((ushort)3, (ushort)5)]
    [InlineData((ushort)0, (ushort)0)]
    [InlineData((ushort)1, (ushort)1)] // version 1 had no hand-over token: its Ready proves nothing

    public void A_source_with_no_common_version_gets_the_incompatible_error_naming_both_ranges(ushort min, ushort max)
    {
        using var raw = new RawSource();
        raw.Send(MessageType.Hello, RawSource.Hello(minVersion: min, maxVersion: max).Write);

        var error = raw.ExpectRejection(ErrorMessage.Incompatible);
        Assert.Equal($"the source speaks protocol versions {min}-{max}, this destination {ProtocolConstants.MinVersion}-{ProtocolConstants.MaxVersion}", error.Text);
        Assert.Equal(0, raw.MachinesBuilt);
    }

    [Fact]
    public void A_Hello_with_the_wrong_magic_is_rejected()
    {
        using var raw = new RawSource();
        var payload = new PayloadWriter();
        RawSource.Hello().Write(payload);
        var bytes = payload.WrittenSpan.ToArray();
        bytes[0] = (byte)'X';
        raw.Connection.Write(MessageType.Hello, bytes);
        raw.Connection.Flush();

        var error = raw.ExpectRejection();
        Assert.Contains("Hello: bad magic: the peer is not a Tern migration source", error.Text);
    }

    [Fact]
    public void Anything_but_Hello_first_is_refused_and_the_destination_keeps_waiting()
    {
        using var raw = new RawSource();
        raw.PassBegin(1);
        var (type, payload) = raw.Connection.Read();
        Assert.Equal(MessageType.Error, type);
        Assert.Contains("unexpected PassBegin message while waiting for Hello or ChannelHello", ErrorMessage.Read(type, payload.Span).Text);
        Assert.Equal(MigrationStatus.None, raw.Destination.Status);

        using var next = raw.Reconnect();
        next.Handshake();
        // Welcome goes out just before the status turns active.
        Assert.True(SpinWait.SpinUntil(() => raw.Destination.Status == MigrationStatus.Active, TimeSpan.FromSeconds(10)), $"{raw.Destination.Status}");
    }

    [Fact]
    public void A_second_Hello_while_a_migration_is_under_way_is_refused_and_the_first_goes_on()
    {
        using var raw = new RawSource();
        raw.Handshake();
        using var second = raw.Reconnect();
        second.Send(MessageType.Hello, RawSource.Hello().Write);
        Assert.Contains("another migration is under way on this destination", second.ReadError());

        raw.DriveToReady();
        Assert.Equal(1, raw.MachinesBuilt);
    }

    [Fact]
    public void A_ChannelHello_for_a_session_that_is_not_under_way_is_refused()
    {
        using var raw = new RawSource();
        raw.Handshake();
        using var stray = raw.Reconnect();
        var session = Guid.NewGuid();
        stray.Send(MessageType.ChannelHello, new ChannelHelloMessage(session, 1).Write);
        Assert.Contains($"no migration session {session} is under way here", stray.ReadError());
        // Welcome goes out just before the status turns active.
        Assert.True(SpinWait.SpinUntil(() => raw.Destination.Status == MigrationStatus.Active, TimeSpan.FromSeconds(10)), $"{raw.Destination.Status}");
    }

    [Fact]
    public void A_RAM_size_that_is_not_whole_pages_is_rejected()
    {
        using var raw = new RawSource();
        raw.Send(MessageType.Hello, RawSource.Hello(memory: (16 << 20) + 100).Write);
        var error = raw.ExpectRejection();
        Assert.Contains("not a whole number of pages", error.Text);
        Assert.Equal(0, raw.MachinesBuilt);
    }

    [Fact]
    public void SetCapability_for_a_capability_that_was_not_negotiated_is_rejected()
    {
        using var raw = new RawSource();
        raw.Handshake(offered: ProtocolCapability.Verify);
        raw.Send(MessageType.SetCapability, new SetCapabilityMessage(ProtocolCapability.Xbzrle, true).Write);
        var error = raw.ExpectRejection();
        Assert.Contains("SetCapability switches Xbzrle, which was not negotiated", error.Text);
    }
}
