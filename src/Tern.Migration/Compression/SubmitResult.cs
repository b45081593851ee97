namespace Tern.Migration.Compression;

/// <summary>What <see cref="CompressionPipeline.Submit"/> did with a page.</summary>
public enum SubmitResult
{
    /// <summary>The pipeline copied the page; its result will reach the handler.</summary>
    Queued,

    /// <summary>
    /// The next worker was busy and the policy is <see cref="BusyPolicy.SendUncompressed"/>: the pipeline did not take
    /// the page; send it as a normal page. (Order across pages does not matter within a pass; flush at pass ends.)
    /// </summary>
    Busy,
}
