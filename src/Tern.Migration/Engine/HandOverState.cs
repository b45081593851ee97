using System.Buffers.Binary;
using System.Security.Cryptography;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>Where the source stands in the hand-over, as far as the destination's replies are concerned.</summary>
internal enum HandOverPhase
{
    /// <summary>Passes, device state: Complete has not been sent, so the destination cannot hold everything.</summary>
    Sending,
    /// <summary>Complete is on its way: one Ready is due.</summary>
    AwaitingReady,
    /// <summary>Ready arrived; the source decides whether to commit. Nothing but an Error may come now.</summary>
    ReadyReceived,
    /// <summary>Commit was written: one Resumed is due.</summary>
    Committed,
    /// <summary>Resumed arrived: the destination runs the VM.</summary>
    Resumed,
    /// <summary>Post-copy: every page has arrived on the destination (PostcopyDone).</summary>
    PostcopyDone,
}

/// <summary>
/// What the source accepts on the return path in each phase: Ready only after it sent Complete, once, echoing Complete's
/// token; Resumed only after it wrote Commit, once; PostcopyDiscarded only after PostcopyDiscard, once; PassApplied only
/// before Ready; Error at any time (handled by the caller). Anything else is a protocol violation whose error names the
/// message and the phase. A pure <c>(phase, message) -> phase</c> function; the caller
/// serializes it with the commit decision, so a violation seen before Commit is written always stops the commit.
/// </summary>
internal sealed class HandOverState
{
    public HandOverPhase Phase { get; private set; } = HandOverPhase.Sending;

    /// <summary>The migration switched to post-copy: after Resumed, one PostcopyDone is due.</summary>
    public bool Postcopy { get; set; }

    /// <summary>PostcopyDiscard was sent and its PostcopyDiscarded has not arrived yet.</summary>
    private bool discardPending;
    private bool discardSent;

    /// <summary>The source is about to send PostcopyDiscard (once, before the pause): one PostcopyDiscarded answers it.</summary>
    public void DiscardSent()
    {
        if (Phase != HandOverPhase.Sending || discardSent) throw new InvalidOperationException($"PostcopyDiscard sent twice or too late (phase {Phase})");
        discardSent = true;
        discardPending = true;
    }

    /// <summary>The token the Complete on its way carries; only a Ready that echoes it answers that Complete.</summary>
    private ulong token;

    /// <summary>
    /// The source is about to write Complete: from now on a Ready that echoes the returned token answers it. The token
    /// is random (and never 0), so a destination cannot echo it without having read Complete.
    /// </summary>
    public ulong CompleteSent()
    {
        if (Phase != HandOverPhase.Sending) throw new InvalidOperationException($"Complete sent twice (phase {Phase})");
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        do RandomNumberGenerator.Fill(bytes); while (BinaryPrimitives.ReadUInt64LittleEndian(bytes) == 0);
        token = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Phase = HandOverPhase.AwaitingReady;
        return token;
    }

    /// <summary>The source is about to write Commit (only after a Ready).</summary>
    public void CommitWritten()
    {
        if (Phase != HandOverPhase.ReadyReceived) throw new InvalidOperationException($"Commit without a Ready (phase {Phase})");
        Phase = HandOverPhase.Committed;
    }

    /// <summary>
    /// Judges a Ready or Resumed (or any other non-Error message) from the destination: null when it is the reply due
    /// now (and the phase moves on), otherwise the violation to fail the migration with. A Ready answers Complete only
    /// if it echoes Complete's token (<paramref name="readyToken"/>): one without it was sent before the destination
    /// read Complete, even if it arrived after Complete was sent.
    /// </summary>
    public ProtocolException? Receive(MessageType type, ulong readyToken = 0)
    {
        switch (type, Phase)
        {
            case (MessageType.Ready, HandOverPhase.AwaitingReady) when readyToken == token:
                Phase = HandOverPhase.ReadyReceived;
                return null;
            case (MessageType.Ready, HandOverPhase.AwaitingReady):
                return new ProtocolException($"the destination sent Ready with hand-over token 0x{readyToken:x16}, not the one Complete carried: " +
                    "it answered before it had read Complete, so it cannot hold everything");
            case (MessageType.Resumed, HandOverPhase.Committed):
                Phase = HandOverPhase.Resumed;
                return null;
            case (MessageType.PassApplied, HandOverPhase.Sending or HandOverPhase.AwaitingReady):
                // The pass number is judged by the caller (it must have been sent and be newer than the last one).
                return null;
            case (MessageType.PostcopyDiscarded, HandOverPhase.Sending) when discardPending:
                discardPending = false;
                return null;
            case (MessageType.PostcopyDone, HandOverPhase.Resumed) when Postcopy:
                Phase = HandOverPhase.PostcopyDone;
                return null;
            default:
                return new ProtocolException($"the destination sent {type} while the source was {Describe(Phase)}{Why(type, Phase)}");
        }
    }

    public static string Describe(HandOverPhase phase) => phase switch
    {
        HandOverPhase.Sending => "still sending the guest (before Complete)",
        HandOverPhase.AwaitingReady => "waiting for Ready",
        HandOverPhase.ReadyReceived => "committing (Ready had already arrived)",
        HandOverPhase.Committed => "waiting for Resumed after Commit",
        HandOverPhase.PostcopyDone => "done (PostcopyDone had already arrived)",
        _ => "done (Resumed had already arrived), or sending the rest of RAM in post-copy",
    };

    private static string Why(MessageType type, HandOverPhase phase) => (type, phase) switch
    {
        (MessageType.Ready, HandOverPhase.Sending) => ": a destination cannot hold everything before Complete",
        (MessageType.Ready, _) => ": Ready comes once",
        (MessageType.Resumed, HandOverPhase.Resumed) => ": Resumed comes once",
        (MessageType.Resumed, _) => ": a destination may resume the guest only on Commit",
        (MessageType.PostcopyDone, _) => ": PostcopyDone comes once, in post-copy, after Resumed",
        (MessageType.PostcopyDiscarded, _) => ": PostcopyDiscarded answers PostcopyDiscard, once, before the pause",
        (MessageType.PassApplied, _) => ": PassApplied comes only before Ready",
        _ => ": the return path carries only Ready, Resumed and Error (and PostcopyDone in post-copy)",
    };
}
