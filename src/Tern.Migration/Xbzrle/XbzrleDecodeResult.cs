namespace Tern.Migration.Xbzrle;

/// <summary>Why <see cref="XbzrleDecoder"/> rejected an encoding. Each is a case QEMU's <c>xbzrle_decode_buffer</c> rejects.</summary>
public enum XbzrleDecodeError
{
    None,
    /// <summary>Fewer than 2 bytes remain where a run length starts (QEMU insists on 2, even for a 1-byte length).</summary>
    TruncatedLength,
    /// <summary>A run length does not end within 2 bytes: the second byte has its high bit set.</summary>
    LengthTooLong,
    /// <summary>An unchanged run of length 0 anywhere but at the very start of the encoding.</summary>
    EmptyUnchangedRun,
    /// <summary>A changed run of length 0.</summary>
    EmptyChangedRun,
    /// <summary>An unchanged run reaches past the end of the page.</summary>
    UnchangedRunPastPage,
    /// <summary>A changed run reaches past the end of the page.</summary>
    ChangedRunPastPage,
    /// <summary>A changed run announces more bytes than the encoding has left.</summary>
    ChangedBytesPastInput,
}

/// <summary>
/// The outcome of decoding one page. On success <see cref="PageOffset"/> is how far into the page the runs reached
/// (QEMU's return value). On failure <see cref="InputOffset"/> is where in the encoding the offending run length
/// starts, <see cref="PageOffset"/> where in the page its run would start, and <see cref="RunLength"/> its value.
/// </summary>
public readonly record struct XbzrleDecodeResult
{
    private XbzrleDecodeResult(XbzrleDecodeError error, int inputOffset, int pageOffset, int runLength)
    {
        Error = error;
        InputOffset = inputOffset;
        PageOffset = pageOffset;
        RunLength = runLength;
    }

    public XbzrleDecodeError Error { get; }
    public int InputOffset { get; }
    public int PageOffset { get; }
    public int RunLength { get; }

    public bool IsSuccess => Error == XbzrleDecodeError.None;

    internal static XbzrleDecodeResult Success(int pageBytesCovered) => new(XbzrleDecodeError.None, 0, pageBytesCovered, 0);

    internal static XbzrleDecodeResult Failure(XbzrleDecodeError error, int inputOffset, int pageOffset, int runLength) =>
        new(error, inputOffset, pageOffset, runLength);

    /// <summary>A sentence naming the problem, its offset in the encoding and, where it helps, its place in the page.</summary>
    public string Describe() => Error switch
    {
        XbzrleDecodeError.None => $"decoded: runs cover {PageOffset} bytes of the page",
        XbzrleDecodeError.TruncatedLength =>
            $"offset {InputOffset}: the encoding ends where a run length should start (fewer than 2 bytes left)",
        XbzrleDecodeError.LengthTooLong =>
            $"offset {InputOffset}: run length longer than 2 bytes (the second byte has its high bit set)",
        XbzrleDecodeError.EmptyUnchangedRun =>
            $"offset {InputOffset}: unchanged run of length 0 after the start of the encoding (page offset {PageOffset})",
        XbzrleDecodeError.EmptyChangedRun =>
            $"offset {InputOffset}: changed run of length 0 (page offset {PageOffset})",
        XbzrleDecodeError.UnchangedRunPastPage =>
            $"offset {InputOffset}: unchanged run of {RunLength} bytes at page offset {PageOffset} runs past the end of the page",
        XbzrleDecodeError.ChangedRunPastPage =>
            $"offset {InputOffset}: changed run of {RunLength} bytes at page offset {PageOffset} runs past the end of the page",
        XbzrleDecodeError.ChangedBytesPastInput =>
            $"offset {InputOffset}: changed run of {RunLength} bytes runs past the end of the encoding",
        _ => $"offset {InputOffset}: {Error}",
    };

    public override string ToString() => Describe();
}
