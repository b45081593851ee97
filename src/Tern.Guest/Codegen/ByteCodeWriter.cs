using Iced.Intel;

namespace Tern.Guest.Codegen;

/// <summary>Collects what Iced's assembler emits.</summary>
internal sealed class ByteCodeWriter : CodeWriter
{
    private readonly List<byte> _bytes = [];

    public override void WriteByte(byte value) => _bytes.Add(value);

    public byte[] ToArray() => [.. _bytes];
}
