using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Control.Qmp;

/// <summary>
/// Turns one frame from a client into exactly one reply: checks the request envelope the way QEMU's
/// <c>qmp_dispatch</c> does (with its error texts), handles capabilities negotiation, and runs the command.
/// Nothing a client sends can escape as an exception: every failure becomes an error reply.
/// </summary>
internal sealed class QmpDispatcher(QmpCommands commands, Action<string> logWarning)
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public byte[] Handle(QmpFrame frame, QmpSessionState session)
    {
        if (frame.Error is { } framingError)
        {
            return QmpWire.Error(QmpErrorClass.GenericError, framingError, null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(frame.Json, ParseOptions);
        }
        catch (JsonException e)
        {
            return QmpWire.Error(QmpErrorClass.GenericError, "JSON parse error, " + e.Message, null);
        }

        using (document)
        {
            var request = document.RootElement;
            JsonElement? id = request.ValueKind == JsonValueKind.Object && request.TryGetProperty("id", out var i) ? i : null;
            try
            {
                return QmpWire.Return(Execute(request, session), id);
            }
            catch (QmpCommandException e)
            {
                return QmpWire.Error(e.ErrorClass, e.Message, id);
            }
            catch (VmControlException e)
            {
                return QmpWire.Error(e.ErrorClass, e.Message, id);
            }
            catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException)
            {
                return QmpWire.Error(QmpErrorClass.GenericError, "JSON parse error, invalid UTF-8 in a string", id);
            }
            catch (Exception e)
            {
                // A bug in the VM host or here: the client gets an answer and the connection stays up.
                logWarning($"QMP request failed unexpectedly: {e}");
                return QmpWire.Error(QmpErrorClass.GenericError, $"internal error: {e.Message}", id);
            }
        }
    }

    private JsonNode? Execute(JsonElement request, QmpSessionState session)
    {
        var (command, oob, arguments) = ParseEnvelope(request, session);

        if (!session.CommandMode)
        {
            if (command != QmpCommands.Capabilities)
            {
                throw new QmpCommandException(QmpErrorClass.CommandNotFound,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
            }
            Negotiate(QmpArguments.Of(arguments), session);
            return null;
        }

        if (command == QmpCommands.Capabilities)
        {
            throw new QmpCommandException(QmpErrorClass.CommandNotFound,
                "Capabilities negotiation is already complete, command ignored");
        }
        if (!commands.TryGet(command, out var handler))
        {
            throw new QmpCommandException(QmpErrorClass.CommandNotFound, $"The command {command} has not been found");
        }
        if (oob)
        {
            throw QmpCommandException.Generic($"The command {command} does not support OOB");
        }
        return handler(QmpArguments.Of(arguments));
    }

    private static (string Command, bool Oob, JsonElement? Arguments) ParseEnvelope(JsonElement request, QmpSessionState session)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw QmpCommandException.Generic("QMP input must be a JSON object");
        }
        string? execute = null, execOob = null;
        JsonElement? arguments = null;
        foreach (var member in request.EnumerateObject())
        {
            switch (member.Name)
            {
                case "execute":
                    execute = MemberString(member);
                    break;
                case "exec-oob" when session.OobEnabled:
                    execOob = MemberString(member);
                    break;
                case "arguments":
                    arguments = member.Value.ValueKind == JsonValueKind.Object
                        ? member.Value
                        : throw QmpCommandException.Generic("QMP input member 'arguments' must be an object");
                    break;
                case "id":
                    break;
                default:
                    throw QmpCommandException.Generic($"QMP input member '{member.Name}' is unexpected");
            }
        }
        return (execute, execOob) switch
        {
            (not null, not null) => throw QmpCommandException.Generic("QMP input must not contain both 'execute' and 'exec-oob'"),
            (null, null) => throw QmpCommandException.Generic("QMP input lacks member 'execute'"),
            (not null, null) => (execute, false, arguments),
            _ => (execOob!, true, arguments),
        };
    }

    private static string MemberString(JsonProperty member) =>
        member.Value.ValueKind == JsonValueKind.String
            ? member.Value.GetString()!
            : throw QmpCommandException.Generic($"QMP input member '{member.Name}' must be a string");

    // qmp_capabilities: {*enable: [QMPCapability]}; the only capability is "oob".
    private static void Negotiate(QmpArguments args, QmpSessionState session)
    {
        var enable = args.OptionalArray("enable") ?? [];
        args.EnsureNoneLeft();
        var oob = false;
        for (var i = 0; i < enable.Count; i++)
        {
            var name = args.StringElement("enable", i, enable[i]);
            oob = name == "oob"
                ? true
                : throw QmpCommandException.Generic($"Parameter 'enable[{i}]' does not accept value '{name}'");
        }
        session.OobEnabled = oob;
        session.CommandMode = true;
    }
}
