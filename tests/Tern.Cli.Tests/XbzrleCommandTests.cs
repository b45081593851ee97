using System.CommandLine;
using System.Diagnostics;
using Xunit;

namespace Tern.Cli.Tests;

/// <summary>`tern xbzrle encode|decode` on page files: round trip, unchanged, overflow, bad sizes, bad encodings.</summary>
public sealed class XbzrleCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tern-xbzrle-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string WriteFile(string name, byte[] content)
    {
        string path = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static (int ExitCode, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = TernCommandLine.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, error.ToString());
    }

    private static byte[] RandomPage(int seed)
    {
        var page = new byte[4096];
        new Random(seed).NextBytes(page);
        return page;
    }

    [Fact]
    public void EncodeThenDecodeRestoresTheNewPage()
    {
        var oldPage = RandomPage(1);
        var newPage = (byte[])oldPage.Clone();
        for (int i = 1000; i < 1300; i++) newPage[i] ^= 0x33;
        newPage[4095] ^= 1;
        string oldPath = WriteFile("old.bin", oldPage), newPath = WriteFile("new.bin", newPage);

        var (encodeExit, encodeError) = Run("xbzrle", "encode", oldPath, newPath, "-o", PathOf("enc.bin"));
        Assert.Equal(0, encodeExit);
        Assert.Contains("encoded:", encodeError);
        var encoded = File.ReadAllBytes(PathOf("enc.bin"));
        // 1000 (2 bytes), 300 (2 bytes), 300 bytes, 2795 (2 bytes), 1, 1 byte.
        Assert.Equal(2 + 2 + 300 + 2 + 1 + 1, encoded.Length);

        var (decodeExit, _) = Run("xbzrle", "decode", oldPath, PathOf("enc.bin"), "--output", PathOf("dec.bin"));
        Assert.Equal(0, decodeExit);
        Assert.Equal(newPage, File.ReadAllBytes(PathOf("dec.bin")));
    }

    [Fact]
    public void UnchangedPageWritesNothingAndSaysSo()
    {
        string oldPath = WriteFile("old.bin", RandomPage(2));
        var (exit, error) = Run("xbzrle", "encode", oldPath, oldPath, "-o", PathOf("enc.bin"));
        Assert.Equal(0, exit);
        Assert.Contains("unchanged", error);
        Assert.Empty(File.ReadAllBytes(PathOf("enc.bin")));
    }

    [Fact]
    public void OverflowHasItsOwnExitCode()
    {
        string oldPath = WriteFile("old.bin", RandomPage(3)), newPath = WriteFile("new.bin", RandomPage(4));
        var (exit, error) = Run("xbzrle", "encode", oldPath, newPath, "-o", PathOf("enc.bin"));
        Assert.Equal(3, exit);
        Assert.Contains("overflow: the encoding would not fit in a page; QEMU sends this page whole", error);
        Assert.False(File.Exists(PathOf("enc.bin")));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4095)]
    [InlineData(4097)]
    public void PageFilesOfTheWrongSizeAreNamed(int size)
    {
        string good = WriteFile("good.bin", RandomPage(5)), bad = WriteFile("bad.bin", new byte[size]);
        var (exit, error) = Run("xbzrle", "encode", good, bad);
        Assert.Equal(2, exit);
        Assert.Contains(bad, error);
        Assert.Contains($"{size} bytes", error);

        (exit, error) = Run("xbzrle", "decode", bad, good);
        Assert.Equal(2, exit);
        Assert.Contains(bad, error);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string good = WriteFile("good.bin", RandomPage(6));
        var (exit, error) = Run("xbzrle", "encode", good, PathOf("missing.bin"));
        Assert.Equal(2, exit);
        Assert.Contains("missing.bin", error);
    }

    [Fact]
    public void BadEncodingNamesOffsetAndReason()
    {
        string oldPath = WriteFile("old.bin", RandomPage(7));
        string encodedPath = WriteFile("bad.enc", [0x05, 0x01, 0xAA, 0x00, 0x01, 0xBB]);
        var (exit, error) = Run("xbzrle", "decode", oldPath, encodedPath, "-o", PathOf("out.bin"));
        Assert.Equal(2, exit);
        Assert.Contains("offset 3", error);
        Assert.Contains("unchanged run of length 0", error);
    }

    [Fact]
    public void EncodingLongerThanAPageIsRejected()
    {
        string oldPath = WriteFile("old.bin", RandomPage(8));
        byte[] tooLong = [0x00, 0x80, 0x20, .. new byte[4096]];
        var (exit, error) = Run("xbzrle", "decode", oldPath, WriteFile("long.enc", tooLong));
        Assert.Equal(2, exit);
        Assert.Contains("at most 4096 bytes", error);
    }

    [Fact]
    public void HelpDocumentsTheExitCodes()
    {
        var output = new StringWriter();
        TernCommandLine.Build().Parse(["xbzrle", "encode", "--help"]).Invoke(new InvocationConfiguration { Output = output, Error = new StringWriter() });
        Assert.Contains("3 overflow", output.ToString());
        Assert.Contains("2 bad input", output.ToString());
    }

    [Fact]
    public void TheProgramWritesBinaryToStandardOutput()
    {
        // Binary output to stdout can only be seen from outside: run the built program.
        string tern = Path.Combine(AppContext.BaseDirectory, "tern.dll");
        Assert.True(File.Exists(tern), $"{tern} not found next to the tests");
        var oldPage = RandomPage(9);
        var newPage = (byte[])oldPage.Clone();
        newPage[0] ^= 0xFF;
        newPage[2000] = (byte)(oldPage[2000] ^ 0x80);
        string oldPath = WriteFile("old.bin", oldPage), newPath = WriteFile("new.bin", newPage);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { tern, "xbzrle", "encode", oldPath, newPath }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var stdout = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(stdout);
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "tern did not exit");
        Assert.Equal(0, process.ExitCode);
        // 0, 1, new byte 0; then 1999 unchanged (0xCF 0x0F), 1, new byte 2000.
        Assert.Equal(new byte[] { 0x00, 0x01, newPage[0], 0xCF, 0x0F, 0x01, newPage[2000] }, stdout.ToArray());
        Assert.Contains("encoded: 7 bytes", stderr);
    }
}
