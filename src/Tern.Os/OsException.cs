using System.Runtime.InteropServices;

namespace Tern.Os;

/// <summary>A failed system call: names the operation and the errno, and optionally what the operator can do.</summary>
public class OsException : Exception
{
    public OsException(string operation, int errno, string? advice = null)
        : base(Compose(operation, errno, advice))
    {
        Operation = operation;
        ErrorNumber = errno;
    }

    public string Operation { get; }
    public int ErrorNumber { get; }

    private static string Compose(string operation, int errno, string? advice)
    {
        var text = $"{operation} failed: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})";
        return advice is null ? text : $"{text}. {advice}";
    }

    /// <summary>Reads errno right after a failed P/Invoke and throws. Kept out of line so callers stay small.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void ThrowLastError(string operation, string? advice = null) =>
        throw new OsException(operation, Marshal.GetLastPInvokeError(), advice);
}
