using Tern.Memory;
using Tern.Migration.Pages;
using Tern.Os.Native;
using Xunit;

namespace Tern.Migration.Tests.Pages;

public sealed class RamDigestTests
{
    private static byte[] Ram(int pages, int seed)
    {
        var ram = new byte[pages * PageSize.Bytes];
        new Random(seed).NextBytes(ram);
        return ram;
    }

    private static ReadOnlySpan<byte> PageOf(byte[] ram, int page) => ram.AsSpan(page * PageSize.Bytes, PageSize.Bytes);

    [Fact]
    public void Page_by_page_equals_one_range_equals_xxh3_of_the_whole_ram()
    {
        var ram = Ram(64, 1);
        using var source = new RamDigest();
        for (var i = 0; i < 64; i++) source.AddPage(new PageIndex((ulong)i), PageOf(ram, i).ToArray()); // the source hashes copies
        using var destination = new RamDigest();
        destination.DigestRange(new PageIndex(0), ram);

        Assert.Equal(source.Value, destination.Value);
        Assert.Equal(XxHash3.Hash64(ram), destination.Value);
        Assert.Equal(64, source.PagesHashed);
        Assert.Equal(64, destination.PagesHashed);
    }

    [Fact]
    public void Ranges_split_anywhere_give_the_same_digest_including_across_holes()
    {
        var ram = Ram(40, 2);
        using var whole = new RamDigest();
        whole.DigestRange(new PageIndex(100), ram.AsSpan(0, 20 * PageSize.Bytes));
        whole.DigestRange(new PageIndex(500), ram.AsSpan(20 * PageSize.Bytes));
        using var pieces = new RamDigest();
        pieces.DigestRange(new PageIndex(100), ram.AsSpan(0, 7 * PageSize.Bytes));
        for (var i = 7; i < 20; i++) pieces.AddPage(new PageIndex(100 + (ulong)i), PageOf(ram, i));
        pieces.DigestRange(new PageIndex(500), ram.AsSpan(20 * PageSize.Bytes, 3 * PageSize.Bytes));
        pieces.DigestRange(new PageIndex(503), ram.AsSpan(23 * PageSize.Bytes));

        Assert.Equal(whole.Value, pieces.Value);
    }

    [Fact]
    public void A_changed_byte_or_a_different_set_of_pages_changes_the_digest()
    {
        var ram = Ram(8, 3);
        using var digest = new RamDigest();
        digest.DigestRange(new PageIndex(0), ram);
        var original = digest.Value;

        ram[5 * PageSize.Bytes + 17] ^= 1;
        digest.Reset();
        digest.DigestRange(new PageIndex(0), ram);
        Assert.NotEqual(original, digest.Value);
        ram[5 * PageSize.Bytes + 17] ^= 1;

        // The same bytes at other page numbers (a hole before them) are a different RAM.
        digest.Reset();
        digest.DigestRange(new PageIndex(1), ram);
        Assert.NotEqual(original, digest.Value);

        // Skipping a page is not the same as hashing the next one in its place.
        using var skipped = new RamDigest();
        skipped.DigestRange(new PageIndex(0), ram.AsSpan(0, 4 * PageSize.Bytes));
        skipped.DigestRange(new PageIndex(5), ram.AsSpan(4 * PageSize.Bytes));
        using var contiguous = new RamDigest();
        contiguous.DigestRange(new PageIndex(0), ram);
        Assert.NotEqual(contiguous.Value, skipped.Value);
    }

    [Fact]
    public void Pages_out_of_order_or_of_the_wrong_size_are_refused()
    {
        using var digest = new RamDigest();
        digest.AddPage(new PageIndex(10), new byte[PageSize.Bytes]);
        var e = Assert.Throws<ArgumentException>(() => digest.AddPage(new PageIndex(10), new byte[PageSize.Bytes]));
        Assert.Contains("increasing order", e.Message);
        Assert.Throws<ArgumentException>(() => digest.AddPage(new PageIndex(11), new byte[100]));
        Assert.Throws<ArgumentException>(() => digest.DigestRange(new PageIndex(11), new byte[PageSize.Bytes + 1]));
    }
}
