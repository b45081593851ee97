using Tern.Memory;

namespace Tern.Migration.Compression;

/// <summary>
/// One page's trip through a pipeline: the owner fills the input, a worker fills the output, the owner hands the
/// result on and returns the job to the pool. Jobs are pooled (no allocation per page), and a job belongs to exactly
/// one thread at a time: ownership passes with the ring operations, whose release/acquire ordering makes the fields
/// written by one side visible to the other.
/// </summary>
internal sealed class PageJob
{
    /// <summary>The owner's copy of the input: a page, or a compressed page (at most a page long).</summary>
    public readonly byte[] Input = GC.AllocateUninitializedArray<byte>(PageSize.Bytes);

    /// <summary>The worker's output: compressed bytes, or a decompressed page.</summary>
    public readonly byte[] Output = GC.AllocateUninitializedArray<byte>(PageSize.Bytes);

    public PageIndex Page;
    public int InputLength;
    public int OutputLength;
    public PageJobOutcome Outcome;

    /// <summary>Why decompression failed (hostile or corrupt input), when <see cref="Outcome"/> says so.</summary>
    public string? Failure;

    /// <summary>An exception the work function threw; re-raised on the owner's thread.</summary>
    public Exception? Fault;

    public ReadOnlySpan<byte> InputBytes => Input.AsSpan(0, InputLength);

    public ReadOnlySpan<byte> OutputBytes => Output.AsSpan(0, OutputLength);

    public void Reset(PageIndex page, ReadOnlySpan<byte> input)
    {
        Page = page;
        input.CopyTo(Input);
        InputLength = input.Length;
        OutputLength = 0;
        Outcome = PageJobOutcome.Pending;
        Failure = null;
        Fault = null;
    }
}

internal enum PageJobOutcome
{
    Pending,
    /// <summary>Output holds the compressed page.</summary>
    Compressed,
    /// <summary>Not worth compressing: the input page is to be sent as it is.</summary>
    SendWhole,
    /// <summary>Output holds the decompressed page.</summary>
    Decompressed,
    /// <summary>The input did not decompress to a page; see <see cref="PageJob.Failure"/>.</summary>
    Failed,
}
