using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tern.Control.Qmp;

/// <summary>
/// Writes the server's messages. Each is one line of JSON ended by CRLF, spaced as QEMU writes them, so line-based
/// clients (socat, python's qemu.qmp) and stream parsers both read them.
/// </summary>
internal static class QmpWire
{
    private static ReadOnlySpan<byte> LineEnd => "\r\n"u8;

    /// <summary>Keeps quotes and non-ASCII text readable for people at a socat prompt; control characters are still escaped.</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>{"QMP": {"version": ..., "capabilities": ["oob"]}}</c></summary>
    public static byte[] Greeting(string package) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("QMP");
        w.WritePropertyName("version");
        QmpCommands.VersionInfo(package).WriteTo(w);
        w.WriteStartArray("capabilities");
        w.WriteStringValue("oob");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary><c>{"return": value, "id": id}</c>; a null value is QEMU's empty object.</summary>
    public static byte[] Return(JsonNode? value, JsonElement? id) => Write(w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("return");
        if (value is null)
        {
            w.WriteStartObject();
            w.WriteEndObject();
        }
        else
        {
            value.WriteTo(w);
        }
        WriteId(w, id);
        w.WriteEndObject();
    });

    /// <summary><c>{"error": {"class": ..., "desc": ...}, "id": id}</c></summary>
    public static byte[] Error(string errorClass, string description, JsonElement? id) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("class", errorClass);
        w.WriteString("desc", description);
        w.WriteEndObject();
        WriteId(w, id);
        w.WriteEndObject();
    });

    /// <summary><c>{"event": name, "data": {...}, "timestamp": {"seconds": s, "microseconds": us}}</c>; no data member when there is none.</summary>
    public static byte[] Event(VmEvent e, DateTimeOffset when) => Write(w =>
    {
        var sinceEpoch = when - DateTimeOffset.UnixEpoch;
        var microseconds = sinceEpoch.Ticks / TimeSpan.TicksPerMicrosecond;
        w.WriteStartObject();
        w.WriteString("event", e.Name);
        if (e.Data is { } data)
        {
            w.WritePropertyName("data");
            data.WriteTo(w);
        }
        w.WriteStartObject("timestamp");
        w.WriteNumber("seconds", microseconds / 1_000_000);
        w.WriteNumber("microseconds", microseconds % 1_000_000);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static void WriteId(Utf8JsonWriter w, JsonElement? id)
    {
        if (id is { } value)
        {
            w.WritePropertyName("id");
            value.WriteTo(w);
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            body(w);
        }
        return WithQemuSpacing(buffer.WrittenSpan);
    }

    /// <summary>
    /// Re-spaces compact JSON the way QEMU prints it, <c>{"return": {}, "id": 1}</c>: shell scripts that grep replies for
    /// <c>"status": "completed"</c> then work against Tern too. Only bytes outside strings are touched, then CRLF is appended.
    /// </summary>
    private static byte[] WithQemuSpacing(ReadOnlySpan<byte> compact)
    {
        var spaced = new byte[compact.Length * 2 + LineEnd.Length];   // at most one space per byte
        var n = 0;
        bool inString = false, escaped = false;
        foreach (var b in compact)
        {
            spaced[n++] = b;
            if (inString)
            {
                if (escaped) escaped = false;
                else if (b == (byte)'\\') escaped = true;
                else if (b == (byte)'"') inString = false;
            }
            else if (b == (byte)'"')
            {
                inString = true;
            }
            else if (b is (byte)':' or (byte)',')
            {
                spaced[n++] = (byte)' ';
            }
        }
        LineEnd.CopyTo(spaced.AsSpan(n));
        return spaced.AsSpan(0, n + LineEnd.Length).ToArray();
    }
}
