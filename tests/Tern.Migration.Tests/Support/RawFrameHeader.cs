using System.Buffers.Binary;
using Tern.Migration.Protocol;

namespace Tern.Migration.Tests.Support;

/// <summary>
/// A frame header laid out by hand from docs/protocol.md (type u16, flags u16, length u32, CRC32C u32), not by the
/// code under test, so tests can build headers that code would never write.
/// </summary>
internal static class RawFrameHeader
{
    public static byte[] Build(ushort type, ushort flags = 0, uint length = 0, uint crc = 0)
    {
        var h = new byte[Frame.HeaderSize];
        BinaryPrimitives.WriteUInt16LittleEndian(h, type);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), length);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), crc);
        return h;
    }
}
