using System.Diagnostics;
using System.Globalization;

namespace Tern.Kvm.Tests.Layout;

/// <summary>
/// Compiles a C program that prints "name value" lines (sizes, offsets, constants from the system's headers) and
/// runs it, so layout tests compare Tern's values with what this machine's headers really say.
/// </summary>
internal static class CProgramProbe
{
    /// <param name="what">What the program probes, for errors ("the kernel-header probe").</param>
    public static IReadOnlyDictionary<string, ulong> CompileAndRun(string program, string what)
    {
        var dir = Directory.CreateTempSubdirectory("tern-layout-");
        try
        {
            var source = Path.Combine(dir.FullName, "probe.c");
            var binary = Path.Combine(dir.FullName, "probe");
            File.WriteAllText(source, program);
            Run("gcc", $"-O0 -o {binary} {source}", $"compile {what} (gcc and linux-libc-dev are installed by scripts/setup.sh)");
            var values = new Dictionary<string, ulong>();
            foreach (var line in Run(binary, "", $"run {what}").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                values[parts[0]] = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
            }
            return values;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Run(string file, string arguments, string what)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException($"could not start {file} to {what}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException($"{file} did not finish within 2 minutes ({what})");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"failed to {what}: exit code {process.ExitCode}\n{stderr.Result}");
        return stdout.Result;
    }
}
