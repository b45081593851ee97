using System.Globalization;

namespace Tern.Bench.Macro;

/// <summary>
/// Per-thread CPU time and page faults of this process, from <c>/proc/self/task/TID/stat</c>, sampled every few
/// milliseconds so that threads which exit before the end (a migration's channel writers) still count. The source,
/// the destination and the guests run in this one process, so threads are told apart by name (Linux keeps 15
/// characters of it).
/// </summary>
public sealed class ThreadCpuSampler : IDisposable
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    private readonly Dictionary<int, ThreadSample> last = [];
    private readonly Dictionary<int, ThreadSample> first = [];
    private readonly Thread thread;
    private readonly object gate = new();
    private volatile bool stop;

    /// <summary>This sampler's own thread, so that its CPU time can be told apart.</summary>
    public const string SamplerName = "cpu sampler";

    public ThreadCpuSampler()
    {
        Sample(first);
        thread = new Thread(Loop) { IsBackground = true, Name = SamplerName };
        thread.Start();
    }

    /// <summary>CPU seconds, minor and major faults per role, from the sampler's start; <paramref name="roleOf"/> names the rest by thread name.</summary>
    public Dictionary<string, ThreadSample> Totals(Func<string, string> roleOf)
    {
        stop = true;
        thread.Join();
        lock (gate)
        {
            Sample(last);
            var totals = new Dictionary<string, ThreadSample>();
            foreach (var (tid, now) in last)
            {
                var before = first.TryGetValue(tid, out var b) ? b : new ThreadSample(now.Name, 0, 0, 0, 0);
                string role = roleOf(now.Name);
                var delta = new ThreadSample(role, now.CpuSeconds - before.CpuSeconds, now.SystemSeconds - before.SystemSeconds, now.MinorFaults - before.MinorFaults, now.MajorFaults - before.MajorFaults);
                totals[role] = totals.TryGetValue(role, out var t)
                    ? new ThreadSample(role, t.CpuSeconds + delta.CpuSeconds, t.SystemSeconds + delta.SystemSeconds, t.MinorFaults + delta.MinorFaults, t.MajorFaults + delta.MajorFaults)
                    : delta;
            }
            return totals;
        }
    }

    private void Loop()
    {
        while (!stop)
        {
            lock (gate) Sample(last);
            Thread.Sleep(100); // often enough to see a channel writer before it exits, rarely enough to cost little
        }
    }

    private static void Sample(Dictionary<int, ThreadSample> into)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // the thread exited; its last sample stays
            }
            int open = text.IndexOf('('), close = text.LastIndexOf(')');
            string name = text[(open + 1)..close];
            var f = text[(close + 2)..].Split(' ');
            // After the name: state(3) ppid pgrp session tty tpgid flags minflt(10) cminflt majflt(12) cmajflt utime(14) stime(15).
            long minflt = long.Parse(f[7], CultureInfo.InvariantCulture), majflt = long.Parse(f[9], CultureInfo.InvariantCulture);
            long user = long.Parse(f[11], CultureInfo.InvariantCulture), system = long.Parse(f[12], CultureInfo.InvariantCulture);
            into[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = new ThreadSample(name, (user + system) / TicksPerSecond, system / TicksPerSecond, minflt, majflt);
        }
    }

    public void Dispose()
    {
        stop = true;
        thread.Join();
    }
}

/// <summary>One thread's (or one role's) CPU seconds (of which in the kernel: <see cref="SystemSeconds"/>) and page faults.</summary>
public readonly record struct ThreadSample(string Name, double CpuSeconds, double SystemSeconds, long MinorFaults, long MajorFaults);
