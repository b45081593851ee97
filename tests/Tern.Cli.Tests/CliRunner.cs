using System.CommandLine;

namespace Tern.Cli.Tests;

/// <summary>Runs the `tern` command line in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = TernCommandLine.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
