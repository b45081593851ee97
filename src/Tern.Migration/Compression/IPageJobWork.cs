namespace Tern.Migration.Compression;

/// <summary>What a pipeline worker does to each job: one instance per worker thread, used only by that thread.</summary>
internal interface IPageJobWork : IDisposable
{
    /// <summary>Fills the job's output and outcome from its input. May throw: the pipeline reports it to the owner.</summary>
    void Process(PageJob job);
}

/// <summary>Compresses the job's page; a page that does not compress well is marked to be sent whole.</summary>
internal sealed class CompressPageWork(IPageCodec codec) : IPageJobWork
{
    public void Process(PageJob job)
    {
        var result = codec.Compress(job.InputBytes, job.Output);
        job.OutputLength = result.Length;
        job.Outcome = result.IsCompressed ? PageJobOutcome.Compressed : PageJobOutcome.SendWhole;
    }

    public void Dispose() => codec.Dispose();
}

/// <summary>Decompresses the job's input into a page; bad input is a failure with the codec's reason.</summary>
internal sealed class DecompressPageWork(IPageCodec codec) : IPageJobWork
{
    public void Process(PageJob job)
    {
        var result = codec.Decompress(job.InputBytes, job.Output);
        job.OutputLength = job.Output.Length;
        job.Outcome = result.Succeeded ? PageJobOutcome.Decompressed : PageJobOutcome.Failed;
        job.Failure = result.Failure;
    }

    public void Dispose() => codec.Dispose();
}
