using System.Buffers.Binary;
using Tern.Os;

namespace Tern.Migration.Protocol;

/// <summary>
/// The frame that carries every message (little-endian):
/// <code>
/// type u16 | flags u16 (0) | payload length u32 | payload CRC32C u32 | payload
/// </code>
/// A frame's payload is at most <see cref="MaxPayload"/> bytes; the checksum catches corruption that TCP's does not.
/// </summary>
public static class Frame
{
    public const int HeaderSize = 12;
    public const int MaxPayload = 16 << 20;

    public static void WriteHeader(Span<byte> header, MessageType type, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Compute(payload));
    }

    /// <summary>Parses and validates a header; throws <see cref="ProtocolException"/> naming what is wrong.</summary>
    public static (MessageType Type, int Length, uint Crc) ReadHeader(ReadOnlySpan<byte> header)
    {
        var type = (MessageType)BinaryPrimitives.ReadUInt16LittleEndian(header);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (type == MessageType.Invalid || !Enum.IsDefined(type))
            throw new ProtocolException($"unknown message type {(ushort)type}");
        if (flags != 0) throw new ProtocolException($"{type} frame has flags 0x{flags:x}; this version sends none");
        if (length > MaxPayload) throw new ProtocolException($"{type} frame claims {length} bytes, over the {MaxPayload}-byte limit");
        return (type, (int)length, crc);
    }
}
