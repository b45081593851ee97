namespace Tern.Migration.Xbzrle;

/// <summary>What <see cref="XbzrleEncoder.Encode(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> concluded about a page.</summary>
public enum XbzrleEncodeStatus
{
    /// <summary>The new page equals the old one: the encoding is empty and QEMU sends nothing for the page.</summary>
    Unchanged,
    /// <summary>The encoding fits in a page; its bytes are the first <see cref="XbzrleEncodeResult.Length"/> of the destination.</summary>
    Encoded,
    /// <summary>The encoding would not fit in a page (QEMU's -1): send the page whole.</summary>
    Overflow,
}

/// <summary>The outcome of encoding one page: a status and, when <see cref="XbzrleEncodeStatus.Encoded"/>, the length.</summary>
public readonly record struct XbzrleEncodeResult
{
    private XbzrleEncodeResult(XbzrleEncodeStatus status, int length)
    {
        Status = status;
        Length = length;
    }

    public XbzrleEncodeStatus Status { get; }

    /// <summary>Bytes of encoding written to the destination; 0 unless <see cref="Status"/> is Encoded.</summary>
    public int Length { get; }

    public static XbzrleEncodeResult Unchanged => new(XbzrleEncodeStatus.Unchanged, 0);
    public static XbzrleEncodeResult Overflow => new(XbzrleEncodeStatus.Overflow, 0);
    public static XbzrleEncodeResult Encoded(int length) => new(XbzrleEncodeStatus.Encoded, length);

    /// <summary>The value QEMU's <c>xbzrle_encode_buffer</c> returns for the same pages: 0, the length, or -1.</summary>
    public int ToQemuReturnValue() => Status switch
    {
        XbzrleEncodeStatus.Unchanged => 0,
        XbzrleEncodeStatus.Encoded => Length,
        _ => -1,
    };

    public override string ToString() => Status switch
    {
        XbzrleEncodeStatus.Unchanged => "unchanged",
        XbzrleEncodeStatus.Encoded => $"encoded in {Length} bytes",
        _ => "overflow",
    };
}
