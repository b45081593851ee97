namespace Tern.Machine;

/// <summary>
/// The throttle's period, shared by both backends: a vCPU throttled to a fraction f sleeps f of every period (as
/// QEMU's cpu-throttle does with its 10 ms timeslice), so throttled time is reported in the same unit everywhere.
/// </summary>
public static class ThrottleClock
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);
}
