using Tern.Machine;

namespace Tern.Migration.Protocol;

/// <summary>The fixed values of the protocol.</summary>
public static class ProtocolConstants
{
    /// <summary>"TERNMIG" and a zero: the first bytes on every connection.</summary>
    public static ReadOnlySpan<byte> Magic => "TERNMIG\0"u8;

    /// <summary>
    /// The protocol versions this Tern speaks. Version 2 added the hand-over token (Complete, Ready): version 1's Ready
    /// could not prove the destination had read Complete, so a source speaks version 2 only.
    /// </summary>
    public const ushort MinVersion = 2, MaxVersion = 2;

    public const int MaxChannels = 64;

    /// <summary>The channel number in a ChannelHello that opens post-copy's urgent lane (requested pages only).</summary>
    public const int UrgentLane = 0xFFFF;

    /// <summary>
    /// The channel number in a ChannelHello that opens a paused post-copy migration's new main connection (the source's
    /// <c>migrate</c> with <c>resume</c>); the destination answers with PostcopyReceived.
    /// </summary>
    public const int RecoveredMain = 0xFFFE;

    /// <summary>The most pages one PageRequest names.</summary>
    public const int MaxRequestedPages = 4096;
}

/// <summary>S→D, first on the main connection.</summary>
public sealed record HelloMessage(
    ushort MinVersion, ushort MaxVersion, ProtocolCapability Offered, Guid Session, int Channels, MachineDescription Machine)
{
    public void Write(PayloadWriter w)
    {
        w.Bytes(ProtocolConstants.Magic);
        w.U16(MinVersion);
        w.U16(MaxVersion);
        w.U64((ulong)Offered);
        w.Bytes(Session.ToByteArray());
        w.U16((ushort)Channels);
        w.Str(Machine.Backend);
        w.U64(Machine.MemoryBytes);
        w.U16((ushort)Machine.VcpuCount);
        w.Str(Machine.Workload);
    }

    public static HelloMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.Hello, payload);
        if (!r.Bytes(8).SequenceEqual(ProtocolConstants.Magic))
            throw new ProtocolException("Hello: bad magic: the peer is not a Tern migration source");
        var hello = new HelloMessage(r.U16(), r.U16(), (ProtocolCapability)r.U64(), new Guid(r.Bytes(16)), r.U16(),
            new MachineDescription(r.Str(), r.U64(), r.U16(), r.Str()));
        r.End();
        return hello;
    }
}

/// <summary>D→S: the answer to Hello.</summary>
public sealed record WelcomeMessage(ushort Version, ProtocolCapability Accepted, int Channels)
{
    public void Write(PayloadWriter w) { w.U16(Version); w.U64((ulong)Accepted); w.U16((ushort)Channels); }

    public static WelcomeMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.Welcome, payload);
        var m = new WelcomeMessage(r.U16(), (ProtocolCapability)r.U64(), r.U16());
        r.End();
        return m;
    }
}

/// <summary>S→D, first on each extra page-data connection.</summary>
public sealed record ChannelHelloMessage(Guid Session, int Channel)
{
    public void Write(PayloadWriter w) { w.Bytes(ProtocolConstants.Magic); w.Bytes(Session.ToByteArray()); w.U16((ushort)Channel); }

    public static ChannelHelloMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.ChannelHello, payload);
        if (!r.Bytes(8).SequenceEqual(ProtocolConstants.Magic))
            throw new ProtocolException("ChannelHello: bad magic: the peer is not a Tern migration source");
        var m = new ChannelHelloMessage(new Guid(r.Bytes(16)), r.U16());
        r.End();
        return m;
    }
}

/// <summary>S→D on the main connection: pass <see cref="Pass"/> is carried by channels 0..<see cref="Channels"/>-1.</summary>
public sealed record PassBeginMessage(uint Pass, int Channels, bool Final)
{
    public void Write(PayloadWriter w) { w.U32(Pass); w.U16((ushort)Channels); w.U8(Final ? (byte)1 : (byte)0); }

    public static PassBeginMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.PassBegin, payload);
        var m = new PassBeginMessage(r.U32(), r.U16(), r.U8() != 0);
        r.End();
        return m;
    }
}

/// <summary>S→D on every channel of a pass: this channel sent <see cref="Records"/> page records in it.</summary>
public sealed record PassEndMessage(uint Pass, ulong Records)
{
    public void Write(PayloadWriter w) { w.U32(Pass); w.U64(Records); }

    public static PassEndMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.PassEnd, payload);
        var m = new PassEndMessage(r.U32(), r.U64());
        r.End();
        return m;
    }
}

/// <summary>D→S (main, with <c>pass-applied</c>): every page of this pass, not a final one, is in guest RAM (u32 pass).</summary>
public static class PassAppliedMessage
{
    public static void Write(PayloadWriter w, uint pass) => w.U32(pass);

    public static uint Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.PassApplied, payload);
        uint pass = r.U32();
        r.End();
        return pass;
    }
}

/// <summary>S→D: a negotiated capability switched on or off from now on.</summary>
public sealed record SetCapabilityMessage(ProtocolCapability Capability, bool Enabled)
{
    public void Write(PayloadWriter w) { w.U64((ulong)Capability); w.U8(Enabled ? (byte)1 : (byte)0); }

    public static SetCapabilityMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.SetCapability, payload);
        var m = new SetCapabilityMessage((ProtocolCapability)r.U64(), r.U8() != 0);
        r.End();
        if (m.Capability == ProtocolCapability.None || !System.Numerics.BitOperations.IsPow2((ulong)m.Capability))
            throw new ProtocolException($"SetCapability names {m.Capability}, not exactly one capability");
        return m;
    }
}

/// <summary>
/// S→D: everything is sent. <see cref="Digest"/> is the XXH3-64 of guest RAM when verifying. <see cref="Token"/> is a
/// random value the destination's Ready must echo: it proves that Ready answers this Complete (a Ready sent before
/// Complete was read can arrive after it was sent, and would otherwise be taken for the answer).
/// </summary>
public sealed record CompleteMessage(ulong TotalRecords, bool HasDigest, ulong Digest, ulong Token)
{
    public void Write(PayloadWriter w) { w.U64(TotalRecords); w.U8(HasDigest ? (byte)1 : (byte)0); w.U64(Digest); w.U64(Token); }

    public static CompleteMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.Complete, payload);
        var m = new CompleteMessage(r.U64(), r.U8() != 0, r.U64(), r.U64());
        r.End();
        return m;
    }
}

/// <summary>D→S: ready to resume; with the destination's digest when verifying, and Complete's <see cref="Token"/>.</summary>
public sealed record ReadyMessage(bool HasDigest, ulong Digest, ulong PagesCompared, ulong Token)
{
    public void Write(PayloadWriter w) { w.U8(HasDigest ? (byte)1 : (byte)0); w.U64(Digest); w.U64(PagesCompared); w.U64(Token); }

    public static ReadyMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.Ready, payload);
        var m = new ReadyMessage(r.U8() != 0, r.U64(), r.U64(), r.U64());
        r.End();
        return m;
    }
}

/// <summary>
/// D→S: the VM runs on the destination since <see cref="ResumedUnixNs"/>; its first heartbeat came at
/// <see cref="FirstHeartbeatUnixNs"/> (0: none yet). <see cref="HeldNs"/>: how long the destination held this message
/// back after the guest was running (waiting for that heartbeat), on its own monotonic clock: the guest was not
/// stopped then, so the source takes it out of the downtime it measures.
/// </summary>
public sealed record ResumedMessage(long ResumedUnixNs, long FirstHeartbeatUnixNs, long HeldNs = 0)
{
    public void Write(PayloadWriter w) { w.I64(ResumedUnixNs); w.I64(FirstHeartbeatUnixNs); w.I64(HeldNs); }

    public static ResumedMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(MessageType.Resumed, payload);
        var m = new ResumedMessage(r.I64(), r.I64(), r.I64());
        if (m.HeldNs < 0) throw new ProtocolException($"Resumed says the destination held it back for {m.HeldNs} ns (negative)");
        r.End();
        return m;
    }
}

/// <summary>Either way: the migration failed or was cancelled; <see cref="Text"/> says why.</summary>
public sealed record ErrorMessage(ushort Code, string Text)
{
    public const ushort Failed = 1, Cancelled = 2, VerificationFailed = 3, Incompatible = 4;

    public void Write(PayloadWriter w) { w.U16(Code); w.Str(Text); }

    public static ErrorMessage Read(MessageType type, ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(type, payload);
        var m = new ErrorMessage(r.U16(), r.Str());
        r.End();
        return m;
    }
}
