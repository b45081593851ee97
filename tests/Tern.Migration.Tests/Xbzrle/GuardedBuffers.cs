namespace Tern.Migration.Tests.Xbzrle;

/// <summary>A page-sized window inside a larger buffer filled with a sentinel, to catch writes outside the window.</summary>
internal sealed class GuardedBuffer
{
    public const int Guard = 256;
    public const byte Sentinel = 0xA5;
    private readonly byte[] _buffer;

    public GuardedBuffer(ReadOnlySpan<byte> content)
    {
        _buffer = new byte[Guard + content.Length + Guard];
        Array.Fill(_buffer, Sentinel);
        content.CopyTo(_buffer.AsSpan(Guard));
        Length = content.Length;
    }

    public int Length { get; }

    public Span<byte> Window => _buffer.AsSpan(Guard, Length);

    public bool GuardsIntact() =>
        !_buffer.AsSpan(0, Guard).ContainsAnyExcept(Sentinel) && !_buffer.AsSpan(Guard + Length).ContainsAnyExcept(Sentinel);
}
