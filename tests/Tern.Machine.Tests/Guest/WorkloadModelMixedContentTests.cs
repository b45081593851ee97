using System.Buffers.Binary;
using Tern.Guest;
using Tern.Memory;
using Tern.Os.Native;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>content=mixed: every write fills its whole page; the model reproduces and checks every byte.</summary>
public class WorkloadModelMixedContentTests
{
    public static TheoryData<string, ulong> Cases => new()
    {
        { "seq:ws=64K,content=mixed", 100 },
        { "seq:ws=64K,content=mixed", 3 },
        { "random:ws=64K,content=mixed", 300 },
        { "hotcold:ws=64K,hot=16K,content=mixed", 300 },
        { "stride:ws=64K,content=mixed", 21 },
        { "stride:ws=64K,content=mixed", 32 * 300 + 5 },
    };

    private static Span<byte> PageOf(ModelledRam s, GuestAddress address) => s.Ram.AsSpan((int)address.Page.Address.Value, PageSize.Bytes);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Memory_written_by_the_model_verifies_exactly(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter);
        var report = s.Model.Verify(s.Ram, s.Counters());
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal([false, false], report.InFlightWriteApplied);
        Assert.Equal(s.Image.Layout!.WorkingSet.PageCount, report.PagesChecked);
    }

    [Fact]
    public void A_write_fills_its_whole_page_as_documented()
    {
        var s = ModelledRam.Run("seq:ws=64K,content=mixed", 1, vcpus: 1);
        var page = PageOf(s, s.Model.WriteTarget(0, 0));
        ulong value = s.Model.WriteValue(0, 0);
        for (int line = 0; line < MixedPageContent.Lines; line++)
        {
            var q = page.Slice(line * 64, 64);
            Assert.NotEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(q));
            Assert.Equal(value, BinaryPrimitives.ReadUInt64LittleEndian(q[24..]));
            Assert.Equal((ulong)line, BinaryPrimitives.ReadUInt64LittleEndian(q[32..]));
            Assert.True(q[40..].IndexOfAnyExcept((byte)0) < 0);
        }
    }

    [Fact]
    public void A_rewrite_changes_a_quarter_of_the_page_or_less_and_keeps_the_stable_qwords()
    {
        // seq over 16 pages: write 16 rewrites write 0's page.
        var s = ModelledRam.Run("seq:ws=64K,content=mixed", 1, vcpus: 1);
        byte[] before = PageOf(s, s.Model.WriteTarget(0, 0)).ToArray();
        s.Model.Apply(s.Ram, 0, 1, 17);
        byte[] after = PageOf(s, s.Model.WriteTarget(0, 16)).ToArray();
        int changed = 0;
        for (int b = 0; b < PageSize.Bytes; b++) if (before[b] != after[b]) changed++;
        Assert.InRange(changed, PageSize.Bytes / 8, PageSize.Bytes / 4);
        Assert.Equal(before.AsSpan(0, 16).ToArray(), after.AsSpan(0, 16).ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(511)]
    [InlineData(512)]
    public void A_page_the_in_flight_write_left_half_filled_is_accepted(int qwordsWritten)
    {
        var s = ModelledRam.Run("seq:ws=64K,content=mixed", 40, vcpus: 1);
        var target = s.Model.WriteTarget(0, 40);
        byte[] old = PageOf(s, target).ToArray();
        s.Model.Apply(s.Ram, 0, 40, 41);
        byte[] filled = PageOf(s, target).ToArray();
        s.SetCounter(0, 40);
        // The vCPU stopped after storing the first qwordsWritten qwords of write 40.
        old.AsSpan(qwordsWritten * 8).CopyTo(PageOf(s, target)[(qwordsWritten * 8)..]);
        Assert.Equal(filled.AsSpan(0, qwordsWritten * 8).ToArray(), PageOf(s, target)[..(qwordsWritten * 8)].ToArray());

        var report = s.Model.Verify(s.Ram, s.Counters());
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(qwordsWritten > 2, report.InFlightWriteApplied[0]); // q0 and q1 of line 0 are the same in both fills
    }

    [Fact]
    public void A_half_filled_page_that_is_not_a_prefix_is_a_mismatch()
    {
        var s = ModelledRam.Run("seq:ws=64K,content=mixed", 40, vcpus: 1);
        var target = s.Model.WriteTarget(0, 40);
        byte[] old = PageOf(s, target).ToArray();
        s.Model.Apply(s.Ram, 0, 40, 41);
        s.SetCounter(0, 40);
        old.AsSpan(800, 800).CopyTo(PageOf(s, target)[800..]); // new, old, new: no single stop leaves that
        var report = s.Model.Verify(s.Ram, s.Counters());
        Assert.False(report.IsExact);
        var m = Assert.Single(report.Mismatches);
        Assert.Equal(target.Page, m.Page);
        Assert.InRange(m.Offset, 1600, 1663); // the first line after the stale stretch that is neither old nor new
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Two_uncounted_writes_are_a_mismatch_on_the_second_ones_page(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter, vcpus: 1);
        s.Model.Apply(s.Ram, 0, counter, counter + 2);
        s.SetCounter(0, counter);
        var report = s.Model.Verify(s.Ram, s.Counters());
        if (s.Model.WriteTarget(0, counter + 1) != s.Model.WriteTarget(0, counter))
        {
            Assert.False(report.IsExact);
            Assert.Equal(s.Model.WriteTarget(0, counter + 1).Page, report.Mismatches[0].Page);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_single_flipped_byte_anywhere_in_the_working_set_is_found(string spec, ulong counter)
    {
        var s = ModelledRam.Run(spec, counter);
        var ws = s.Image.Layout!.WorkingSet;
        var targets = new[] { s.Model.WriteTarget(0, counter - 1).Add(4095), s.Model.WriteTarget(1, 0).Add(17), ws.Start.Add(ws.Length - 1), ws.Start.Add(100) };
        foreach (var address in targets)
        {
            byte before = s.Ram[address.Value];
            s.Ram[address.Value] ^= 0x40;
            var report = s.Model.Verify(s.Ram, s.Counters());
            s.Ram[address.Value] = before;

            Assert.Equal(1UL, report.MismatchCount);
            var m = Assert.Single(report.Mismatches);
            Assert.Equal(address.Page, m.Page);
            Assert.InRange(address.Value - m.Address.Value, 0UL, 7UL);
        }
        Assert.True(s.Model.Verify(s.Ram, s.Counters()).IsExact);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(127)]
    [InlineData(128)]
    public void A_stride_block_the_in_flight_write_left_half_filled_on_the_first_pass_is_accepted(int qwordsWritten)
    {
        var s = ModelledRam.Run("stride:ws=64K,content=mixed", 10, vcpus: 1);
        var target = s.Model.WriteTarget(0, 10);
        s.Model.Apply(s.Ram, 0, 10, 11);
        s.SetCounter(0, 10);
        // The vCPU stopped after qwordsWritten qwords of the block's fill, before the increment (128: after the fill).
        var block = s.Ram.AsSpan((int)target.Value, WorkloadSpec.StrideStepBytes);
        block[0]--;
        block[(qwordsWritten * 8)..].Clear();
        var report = s.Model.Verify(s.Ram, s.Counters());
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(qwordsWritten > 0, report.InFlightWriteApplied[0]);

        if (qwordsWritten < 127)
        {
            block[qwordsWritten * 8 + 9] = 1; // a byte after the written prefix that is not zero: no stop leaves that
            Assert.False(s.Model.Verify(s.Ram, s.Counters()).IsExact);
        }
    }

    [Fact]
    public void Mixed_pages_compress_two_to_three_times_with_zstd_level_1()
    {
        // 4096 writes over 1024 pages: every page written, most of them several times.
        var s = ModelledRam.Run("random:ws=4M,content=mixed", 4096, vcpus: 1);
        double ratio = ZstdRatio(s.Ram, s.Image.Layout!.WorkingSet);
        Assert.InRange(ratio, 2.0, 3.0);
        var stride = ModelledRam.Run("stride:ws=4M,content=mixed", 4096 * 3 + 7, vcpus: 1);
        Assert.InRange(ZstdRatio(stride.Ram, stride.Image.Layout!.WorkingSet), 2.0, 3.0);
    }

    /// <summary>Bytes over bytes compressed, page by page at level 1, as the migration's zstd codec compresses.</summary>
    internal static double ZstdRatio(ReadOnlySpan<byte> ram, GuestRegion region)
    {
        using var zstd = new ZstdCompressor();
        var output = new byte[ZstdCompressor.CompressBound(PageSize.Bytes)];
        long raw = 0, compressed = 0;
        for (ulong p = 0; p < region.PageCount; p++)
        {
            var page = ram.Slice((int)(region.Start.Value + p * PageSize.Bytes), PageSize.Bytes);
            Assert.True(zstd.TryCompress(page, output, 1, out int written));
            raw += PageSize.Bytes;
            compressed += written;
        }
        return (double)raw / compressed;
    }
}
