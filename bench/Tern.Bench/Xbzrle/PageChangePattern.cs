namespace Tern.Bench.Xbzrle;

/// <summary>How the new page of each benchmark pair differs from the old one.</summary>
public enum PageChangePattern
{
    /// <summary>One changed byte at a random offset.</summary>
    OneByte,
    /// <summary>One changed, aligned 8-byte word in each KiB.</summary>
    WordPerKiB,
    /// <summary>64 changed bytes at random offsets.</summary>
    Bytes64,
    /// <summary>Each byte changed with probability 10%.</summary>
    Random10Percent,
    /// <summary>Each byte changed with probability 50% (most encodings overflow near the end of the page).</summary>
    Random50Percent,
    /// <summary>An unrelated random page: the encoding overflows.</summary>
    NewPage,
}
