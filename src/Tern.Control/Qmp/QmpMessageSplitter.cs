namespace Tern.Control.Qmp;

/// <summary>One item cut from a QMP byte stream: a complete top-level JSON value, or why some input could not be one.</summary>
internal readonly record struct QmpFrame(byte[]? Json, string? Error)
{
    public static QmpFrame Value(byte[] json) => new(json, null);
    public static QmpFrame Invalid(string error) => new(null, error);
}

/// <summary>
/// Splits a QMP byte stream into top-level JSON values without parsing them. QMP does not require one message per line,
/// so the splitter follows the JSON structure: nesting depth of <c>{}</c>/<c>[]</c>, strings and their escapes. A value is
/// complete when its outermost bracket closes (or, for a bare scalar, at the next delimiter); System.Text.Json then parses it.
/// <para>
/// Recovery, as in QEMU: a stray closing bracket, a raw control character inside a string, or a byte that can never occur
/// in UTF-8 (0xFE, 0xFF; clients send 0xFF on purpose to reset the parser) is reported as an error and the splitter starts
/// afresh with the next byte, so a later well-formed command is still understood. A value longer than the size cap is
/// reported once, then skipped to its end without being buffered, so a client cannot make the server hold unbounded input.
/// </para>
/// </summary>
internal sealed class QmpMessageSplitter
{
    private const int InitialBufferBytes = 512;
    /// <summary>A buffer grown beyond this by one big message is released afterwards, so idle clients hold little memory.</summary>
    private const int RetainedBufferBytes = 64 * 1024;

    private readonly int _maxMessageBytes;
    private byte[] _buffer = new byte[InitialBufferBytes];
    private int _length;

    private bool _inValue;      // between the first byte of a value and its end
    private bool _inScalar;     // a top-level number, literal or garbage word, which ends at a delimiter
    private bool _inString;
    private bool _escaped;      // the previous byte in a string was an unescaped backslash
    private bool _discarding;   // the value outgrew the cap: still tracking its structure, no longer storing it
    private int _depth;

    public QmpMessageSplitter(int maxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageBytes, 2);
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Consumes <paramref name="data"/> and appends every value or error it completes to <paramref name="frames"/>.</summary>
    public void Feed(ReadOnlySpan<byte> data, List<QmpFrame> frames)
    {
        foreach (var b in data)
        {
            Step(b, frames);
        }
    }

    private void Step(byte b, List<QmpFrame> frames)
    {
        if (b is 0xFE or 0xFF)
        {
            frames.Add(QmpFrame.Invalid($"JSON parse error, stray byte 0x{b:X2}"));
            Reset();
            return;
        }

        if (_inScalar)
        {
            if (!IsDelimiter(b))
            {
                Append(b, frames);
                return;
            }
            Complete(frames);   // and the delimiter starts whatever follows
        }

        if (!_inValue)
        {
            StartValue(b, frames);
            return;
        }

        if (_inString)
        {
            if (_escaped)
            {
                _escaped = false;
            }
            else if (b == (byte)'\\')
            {
                _escaped = true;
            }
            else if (b == (byte)'"')
            {
                _inString = false;
            }
            else if (b < 0x20)
            {
                frames.Add(QmpFrame.Invalid("JSON parse error, control character inside a string"));
                Reset();
                return;
            }
            Append(b, frames);
            if (!_inString && _depth == 0)
            {
                Complete(frames);   // a top-level string
            }
            return;
        }

        Append(b, frames);
        switch (b)
        {
            case (byte)'"':
                _inString = true;
                break;
            case (byte)'{' or (byte)'[':
                _depth++;
                break;
            case (byte)'}' or (byte)']':
                if (--_depth == 0)
                {
                    Complete(frames);
                }
                break;
        }
    }

    private void StartValue(byte b, List<QmpFrame> frames)
    {
        switch (b)
        {
            case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                return;
            case (byte)'{' or (byte)'[':
                _inValue = true;
                _depth = 1;
                break;
            case (byte)'"':
                _inValue = true;
                _inString = true;
                break;
            case (byte)'}' or (byte)']' or (byte)',' or (byte)':':
                frames.Add(QmpFrame.Invalid($"JSON parse error, unexpected '{(char)b}' where a value was expected"));
                return;
            default:
                _inValue = true;
                _inScalar = true;
                break;
        }
        Append(b, frames);
    }

    private static bool IsDelimiter(byte b) =>
        b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'{' or (byte)'[' or (byte)'}' or (byte)']'
            or (byte)'"' or (byte)',' or (byte)':';

    private void Append(byte b, List<QmpFrame> frames)
    {
        if (_discarding)
        {
            return;
        }
        if (_length == _maxMessageBytes)
        {
            frames.Add(QmpFrame.Invalid($"JSON parse error, message longer than {_maxMessageBytes} bytes"));
            _discarding = true;
            ReleaseBuffer();
            return;
        }
        if (_length == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, _maxMessageBytes));
        }
        _buffer[_length++] = b;
    }

    private void Complete(List<QmpFrame> frames)
    {
        if (!_discarding)
        {
            frames.Add(QmpFrame.Value(_buffer.AsSpan(0, _length).ToArray()));
        }
        Reset();
    }

    private void Reset()
    {
        _inValue = _inScalar = _inString = _escaped = _discarding = false;
        _depth = 0;
        _length = 0;
        if (_buffer.Length > RetainedBufferBytes)
        {
            ReleaseBuffer();
        }
    }

    private void ReleaseBuffer()
    {
        _buffer = new byte[InitialBufferBytes];
        _length = 0;
    }
}
