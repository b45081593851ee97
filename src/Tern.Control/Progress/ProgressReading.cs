namespace Tern.Control.Progress;

/// <summary>The guest's progress counters (one per vCPU) read at one moment, <paramref name="Seconds"/> on a monotonic clock.</summary>
public readonly record struct ProgressReading(double Seconds, IReadOnlyList<ulong> Counters);
