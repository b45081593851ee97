using System.CommandLine;

namespace Tern.Cli.Tests;

/// <summary>Runs the `tern` command line in-process with its output captured.</summary>
internal static class TernRun
{
    public static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await TernCommandLine.Build().Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, Ct);
        return (exitCode, output.ToString(), error.ToString());
    }
}
