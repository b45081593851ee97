namespace Tern.Guest;

/// <summary>
/// The arithmetic of one <c>compute</c> iteration, which the guest runs in registers and a simulated vCPU runs on
/// the host: iteration i folds splitmix64_finalizer(key + (i + 1) * G) into an accumulator. Nothing of it reaches
/// memory; only the iteration count (the counter) is observable.
/// </summary>
internal static class ComputeWork
{
    public static ulong Run(ulong key, ulong from, ulong to)
    {
        ulong z = key + from * WorkloadPrng.Golden;
        ulong acc = 0;
        for (ulong i = from; i < to; i++)
        {
            z += WorkloadPrng.Golden;
            acc ^= WorkloadPrng.Finalize(z);
        }
        return acc;
    }
}
