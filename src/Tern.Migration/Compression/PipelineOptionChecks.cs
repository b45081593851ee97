namespace Tern.Migration.Compression;

/// <summary>Range checks shared by the pipeline options, with messages in QEMU's parameter names.</summary>
internal static class PipelineOptionChecks
{
    public const int MaxWorkers = 64;
    public const int MaxQueueDepth = 1024;

    public static int Workers(int value, string parameter) =>
        value is >= 1 and <= MaxWorkers ? value : throw new ArgumentException($"{parameter} must be between 1 and {MaxWorkers}, not {value}");

    public static int QueueDepth(int value) =>
        value is >= 1 and <= MaxQueueDepth && int.IsPow2(value)
            ? value
            : throw new ArgumentException($"the compression queue depth must be a power of two between 1 and {MaxQueueDepth}, not {value}");
}
