namespace Tern.Migration.Protocol;

/// <summary>
/// The peer sent something this side cannot accept: a malformed frame, a message out of place, a value out of
/// range. The message names what arrived and, where it matters, the state the receiver was in.
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(string message) : base(message) { }

    public static ProtocolException Unexpected(MessageType type, string state) =>
        new($"unexpected {type} message while {state}");
}
