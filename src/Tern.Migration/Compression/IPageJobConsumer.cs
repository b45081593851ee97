namespace Tern.Migration.Compression;

/// <summary>Hands a finished job on (to the network or to guest memory) on the owner's thread, in submission order.</summary>
internal interface IPageJobConsumer
{
    /// <summary>Called once per job, in submission order. The job's buffers are valid only during the call.</summary>
    void Consume(PageJob job);
}
