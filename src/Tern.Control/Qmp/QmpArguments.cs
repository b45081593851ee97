using System.Text.Json;

namespace Tern.Control.Qmp;

/// <summary>
/// Reads a command's <c>arguments</c> object the way QEMU's QAPI input visitor does, with the same error texts:
/// members are read in schema order (so a missing required member is reported before an unexpected one), and
/// <see cref="EnsureNoneLeft"/> reports the first member the command did not read. Nested objects report their
/// members by path, e.g. <c>capabilities[0].state</c>.
/// </summary>
internal sealed class QmpArguments
{
    private readonly JsonElement? _object;
    private readonly string _pathPrefix;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private QmpArguments(JsonElement? obj, string pathPrefix)
    {
        _object = obj;
        _pathPrefix = pathPrefix;
    }

    /// <summary>The command's arguments; absent arguments read as an empty object.</summary>
    public static QmpArguments Of(JsonElement? arguments) => new(arguments, "");

    public string RequireString(string name) => ReadString(name, Require(name));

    public string? OptionalString(string name) => TryGet(name, out var v) ? ReadString(name, v) : null;

    public bool? OptionalBool(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "boolean"),
        };
    }

    public bool RequireBool(string name) =>
        Require(name).ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "boolean"),
        };

    /// <summary>An unsigned integer member; QEMU names the QAPI type (<c>uint64</c>, <c>uint8_t</c>) when the value does not fit.</summary>
    public ulong? OptionalUnsigned(string name, ulong max, string qapiType)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetUInt64(out var value))
        {
            throw QmpCommandException.Generic($"Parameter '{Path(name)}' expects uint64");
        }
        if (value > max)
        {
            throw QmpCommandException.Generic($"Parameter '{Path(name)}' expects {qapiType}");
        }
        return value;
    }

    /// <summary>A signed integer member (QAPI <c>int</c>/<c>int64</c>).</summary>
    public long RequireSigned(string name) => ReadSigned(name, Require(name));

    public long? OptionalSigned(string name) => TryGet(name, out var v) ? ReadSigned(name, v) : null;

    private long ReadSigned(string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var value))
        {
            throw WrongType(name, "integer");
        }
        return value;
    }

    /// <summary>An optional member holding a QAPI enum value.</summary>
    public T? OptionalEnum<T>(string name, TryParseEnum<T> parse) where T : struct =>
        TryGet(name, out _) ? RequireEnum(name, parse) : null;

    /// <summary>A member holding a QAPI enum value; <paramref name="parse"/> maps the QAPI spelling.</summary>
    public T RequireEnum<T>(string name, TryParseEnum<T> parse)
    {
        var text = ReadString(name, Require(name));
        if (!parse(text, out var value))
        {
            // QEMU's visitor names the bare member here, not its path.
            throw QmpCommandException.Generic($"Parameter '{name}' does not accept value '{text}'");
        }
        return value;
    }

    public delegate bool TryParseEnum<T>(string text, out T value);

    /// <summary>An optional array member, returned as its elements.</summary>
    public IReadOnlyList<JsonElement>? OptionalArray(string name) =>
        TryGet(name, out var v) ? ReadArray(name, v) : null;

    public IReadOnlyList<JsonElement> RequireArray(string name) => ReadArray(name, Require(name));

    /// <summary>Element <paramref name="index"/> of array <paramref name="arrayName"/>, which must be an object.</summary>
    public QmpArguments ObjectElement(string arrayName, int index, JsonElement element)
    {
        var path = $"{Path(arrayName)}[{index}]";
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw QmpCommandException.Generic($"Invalid parameter type for '{path}', expected: object");
        }
        return new QmpArguments(element, path + ".");
    }

    /// <summary>Element <paramref name="index"/> of array <paramref name="arrayName"/>, which must be a string.</summary>
    public string StringElement(string arrayName, int index, JsonElement element) =>
        element.ValueKind == JsonValueKind.String
            ? element.GetString()!
            : throw QmpCommandException.Generic($"Invalid parameter type for '{Path(arrayName)}[{index}]', expected: string");

    /// <summary>Fails on the first member no reader asked for. Call it after reading every member and before acting.</summary>
    public void EnsureNoneLeft()
    {
        if (_object is not { } obj)
        {
            return;
        }
        foreach (var member in obj.EnumerateObject())
        {
            if (!_read.Contains(member.Name))
            {
                throw QmpCommandException.Generic($"Parameter '{Path(member.Name)}' is unexpected");
            }
        }
    }

    private JsonElement Require(string name) =>
        TryGet(name, out var v) ? v : throw QmpCommandException.Generic($"Parameter '{Path(name)}' is missing");

    private bool TryGet(string name, out JsonElement value)
    {
        _read.Add(name);
        if (_object is { } obj && obj.TryGetProperty(name, out value))
        {
            return true;
        }
        value = default;
        return false;
    }

    private string ReadString(string name, JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? v.GetString()! : throw WrongType(name, "string");

    private IReadOnlyList<JsonElement> ReadArray(string name, JsonElement v) =>
        v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray()] : throw WrongType(name, "array");

    private QmpCommandException WrongType(string name, string expected) =>
        QmpCommandException.Generic($"Invalid parameter type for '{Path(name)}', expected: {expected}");

    private string Path(string name) => _pathPrefix + name;
}
