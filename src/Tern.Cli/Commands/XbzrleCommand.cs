using System.CommandLine;
using Tern.Memory;
using Tern.Migration.Xbzrle;

namespace Tern.Cli.Commands;

/// <summary>
/// <c>tern xbzrle encode OLD NEW [-o FILE]</c> and <c>tern xbzrle decode OLD ENCODED [-o FILE]</c>: the XBZRLE codec
/// on page files, byte-compatible with QEMU, for checking encodings by hand or against QEMU's.
/// </summary>
public static class XbzrleCommand
{
    public const int ExitSuccess = 0;
    /// <summary>A file that is missing, unreadable or the wrong size, or an encoding the decoder rejects.</summary>
    public const int ExitBadInput = 2;
    /// <summary>The encoding would not fit in a page.</summary>
    public const int ExitOverflow = 3;

    private const string ExitCodes =
        "Exit codes: 0 success; 2 bad input (a missing file, a page file that is not exactly 4096 bytes, an encoding the decoder rejects); " +
        "3 overflow (encode only: the encoding would not fit in a page, so QEMU would send the page whole).";

    public static Command Create()
    {
        var command = new Command("xbzrle",
            "Encode or decode one 4096-byte page with XBZRLE, exactly as QEMU does (its migration/xbzrle.c).\n" + ExitCodes);
        command.Subcommands.Add(CreateEncode());
        command.Subcommands.Add(CreateDecode());
        return command;
    }

    private static Command CreateEncode()
    {
        var oldArgument = new Argument<FileInfo>("old") { Description = "The page as the destination has it: a file of exactly 4096 bytes." };
        var newArgument = new Argument<FileInfo>("new") { Description = "The page as it is now: a file of exactly 4096 bytes." };
        var output = OutputOption();
        var command = new Command("encode",
            "Write the XBZRLE encoding of NEW against OLD to standard output or FILE. An unchanged page encodes to nothing.\n" + ExitCodes)
        {
            oldArgument, newArgument, output,
        };
        command.SetAction(parseResult =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var oldFile = parseResult.GetValue(oldArgument)!;
            var newFile = parseResult.GetValue(newArgument)!;
            if (!TryReadPage(oldFile, error, out var oldPage) || !TryReadPage(newFile, error, out var newPage)) return ExitBadInput;

            var encoded = new byte[PageSize.Bytes];
            var result = XbzrleEncoder.Encode(oldPage, newPage, encoded);
            switch (result.Status)
            {
                case XbzrleEncodeStatus.Overflow:
                    error.WriteLine("overflow: the encoding would not fit in a page; QEMU sends this page whole");
                    return ExitOverflow;
                case XbzrleEncodeStatus.Unchanged:
                    error.WriteLine("unchanged: the pages are identical, so the encoding is empty (QEMU sends nothing for this page)");
                    break;
                default:
                    error.WriteLine($"encoded: {result.Length} bytes");
                    break;
            }
            return TryWrite(parseResult.GetValue(output), encoded.AsSpan(0, result.Length), error) ? ExitSuccess : ExitBadInput;
        });
        return command;
    }

    private static Command CreateDecode()
    {
        var oldArgument = new Argument<FileInfo>("old") { Description = "The page the encoding applies to: a file of exactly 4096 bytes." };
        var encodedArgument = new Argument<FileInfo>("encoded") { Description = "An XBZRLE encoding, as `tern xbzrle encode` or QEMU writes it (at most 4096 bytes)." };
        var output = OutputOption();
        var command = new Command("decode",
            "Apply the XBZRLE encoding ENCODED to OLD and write the resulting 4096-byte page to standard output or FILE.\n" + ExitCodes)
        {
            oldArgument, encodedArgument, output,
        };
        command.SetAction(parseResult =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var oldFile = parseResult.GetValue(oldArgument)!;
            var encodedFile = parseResult.GetValue(encodedArgument)!;
            if (!TryReadPage(oldFile, error, out var page) || !TryRead(encodedFile, error, out var encoded)) return ExitBadInput;
            if (encoded.Length > PageSize.Bytes)
            {
                error.WriteLine($"{encodedFile.FullName}: {encoded.Length} bytes; QEMU accepts at most {PageSize.Bytes} bytes of XBZRLE data for a page");
                return ExitBadInput;
            }

            var result = XbzrleDecoder.Decode(encoded, page);
            if (!result.IsSuccess)
            {
                error.WriteLine($"{encodedFile.FullName}: {result.Describe()}");
                return ExitBadInput;
            }
            return TryWrite(parseResult.GetValue(output), page, error) ? ExitSuccess : ExitBadInput;
        });
        return command;
    }

    private static Option<FileInfo?> OutputOption() =>
        new("--output", "-o") { Description = "Write the result to this file instead of standard output." };

    private static bool TryReadPage(FileInfo file, TextWriter error, out byte[] page)
    {
        if (!TryRead(file, error, out page)) return false;
        if (page.Length == PageSize.Bytes) return true;
        error.WriteLine($"{file.FullName}: {page.Length} bytes; a page file must be exactly {PageSize.Bytes} bytes");
        return false;
    }

    private static bool TryRead(FileInfo file, TextWriter error, out byte[] content)
    {
        try
        {
            content = File.ReadAllBytes(file.FullName);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"cannot read {file.FullName}: {e.Message}");
            content = [];
            return false;
        }
    }

    private static bool TryWrite(FileInfo? file, ReadOnlySpan<byte> content, TextWriter error)
    {
        try
        {
            if (file is null)
            {
                using var stdout = Console.OpenStandardOutput();
                stdout.Write(content);
                stdout.Flush();
            }
            else
            {
                using var stream = new FileStream(file.FullName, FileMode.Create, FileAccess.Write);
                stream.Write(content);
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"cannot write {file?.FullName ?? "standard output"}: {e.Message}");
            return false;
        }
    }
}
