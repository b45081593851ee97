using System.Buffers.Binary;
using System.Text;

namespace Tern.Machine.State;

/// <summary>
/// The saved state of a whole machine: an ordered list of sections, one per <see cref="IStateComponent"/>.
/// Encoding (little-endian):
/// <code>
/// header:  magic "TERNSTAT" (8) | format u16 | section count u16 | body length u32 | body CRC32C u32
/// body:    section*   where section = id length u8 | id (UTF-8) | version u16 | payload length u32 | payload
/// </code>
/// Loading checks the magic, the format, a size cap, the CRC, and that every section is well formed.
/// </summary>
public sealed class StateSnapshot
{
    public const ushort FormatVersion = 1;
    public const int MaxEncodedSize = 64 << 20;
    private static ReadOnlySpan<byte> Magic => "TERNSTAT"u8;
    private const int HeaderSize = 8 + 2 + 2 + 4 + 4;

    private readonly List<Section> sections = [];

    public IReadOnlyList<Section> Sections => sections;

    public sealed record Section(string Id, ushort Version, byte[] Payload);

    /// <summary>Saves every component, in order.</summary>
    public static StateSnapshot Capture(IEnumerable<IStateComponent> components)
    {
        var snapshot = new StateSnapshot();
        foreach (var c in components)
        {
            var w = new StateWriter();
            c.SaveState(w);
            snapshot.sections.Add(new Section(c.StateId, c.StateVersion, w.ToArray()));
        }
        return snapshot;
    }

    /// <summary>
    /// Restores every component from its section. Every component must find its section; a section no component
    /// claims is an error too (the state is for a different machine).
    /// </summary>
    public void Apply(IEnumerable<IStateComponent> components)
    {
        var byId = sections.ToDictionary(s => s.Id);
        var claimed = new HashSet<string>();
        foreach (var c in components)
        {
            if (!byId.TryGetValue(c.StateId, out var s))
                throw new StateFormatException(c.StateId, "missing from the saved state (was it saved by a machine with a different configuration?)");
            var reader = new StateReader(s.Id, s.Payload);
            c.RestoreState(reader, s.Version);
            reader.EnsureConsumed();
            claimed.Add(s.Id);
        }
        foreach (var s in sections)
        {
            if (!claimed.Contains(s.Id))
                throw new StateFormatException(s.Id, "no component of this machine has that state (was it saved by a machine with a different configuration?)");
        }
    }

    public byte[] Encode()
    {
        var body = new MemoryStream();
        Span<byte> scratch = stackalloc byte[4];
        foreach (var s in sections)
        {
            var id = Encoding.UTF8.GetBytes(s.Id);
            body.WriteByte((byte)id.Length);
            body.Write(id);
            BinaryPrimitives.WriteUInt16LittleEndian(scratch, s.Version);
            body.Write(scratch[..2]);
            BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)s.Payload.Length);
            body.Write(scratch);
            body.Write(s.Payload);
        }
        var bodyBytes = body.ToArray();
        var result = new byte[HeaderSize + bodyBytes.Length];
        Magic.CopyTo(result);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(10), (ushort)sections.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(12), (uint)bodyBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(16), Crc32C(bodyBytes));
        bodyBytes.CopyTo(result, HeaderSize);
        return result;
    }

    public static StateSnapshot Decode(ReadOnlySpan<byte> encoded)
    {
        const string where = "header";
        if (encoded.Length > MaxEncodedSize) throw new StateFormatException(where, $"{encoded.Length} bytes is over the {MaxEncodedSize}-byte limit");
        if (encoded.Length < HeaderSize) throw new StateFormatException(where, $"truncated: {encoded.Length} bytes");
        if (!encoded[..8].SequenceEqual(Magic)) throw new StateFormatException(where, "not Tern machine state (bad magic)");
        ushort format = BinaryPrimitives.ReadUInt16LittleEndian(encoded[8..]);
        if (format != FormatVersion) throw new StateFormatException(where, $"format version {format}; this Tern reads version {FormatVersion}");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(encoded[10..]);
        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(encoded[12..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(encoded[16..]);
        if (bodyLength != encoded.Length - HeaderSize)
            throw new StateFormatException(where, $"body length {bodyLength} does not match the {encoded.Length - HeaderSize} bytes present");
        var body = encoded[HeaderSize..];
        if (Crc32C(body) != crc) throw new StateFormatException(where, "checksum mismatch: the state was corrupted");

        var snapshot = new StateSnapshot();
        int p = 0;
        for (int i = 0; i < count; i++)
        {
            if (p + 1 > body.Length) throw new StateFormatException(where, $"section {i} is truncated");
            int idLength = body[p++];
            if (p + idLength + 6 > body.Length) throw new StateFormatException(where, $"section {i} is truncated");
            string id = Encoding.UTF8.GetString(body.Slice(p, idLength));
            p += idLength;
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(body[p..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(body[(p + 2)..]);
            p += 6;
            if (length > body.Length - p) throw new StateFormatException(id, $"payload claims {length} bytes, only {body.Length - p} remain");
            snapshot.sections.Add(new Section(id, version, body.Slice(p, (int)length).ToArray()));
            p += (int)length;
        }
        if (p != body.Length) throw new StateFormatException(where, $"{body.Length - p} unexpected bytes after the last section");
        if (snapshot.sections.Select(s => s.Id).Distinct().Count() != snapshot.sections.Count)
            throw new StateFormatException(where, "a section appears twice");
        return snapshot;
    }

    /// <summary>The checksum of the body: CRC32C.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data) => Tern.Os.Crc32C.Compute(data);
}
