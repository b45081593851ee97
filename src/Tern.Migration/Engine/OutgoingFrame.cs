using System.Buffers;
using Tern.Migration.Protocol;

namespace Tern.Migration.Engine;

/// <summary>A message waiting to be written: its type and a pooled payload buffer, returned after sending.</summary>
internal readonly record struct OutgoingFrame(MessageType Type, byte[] Buffer, int Length, bool Pooled)
{
    public static OutgoingFrame Copy(MessageType type, ReadOnlySpan<byte> payload)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(buffer);
        return new OutgoingFrame(type, buffer, payload.Length, true);
    }

    public void Release()
    {
        if (Pooled) ArrayPool<byte>.Shared.Return(Buffer);
    }
}
