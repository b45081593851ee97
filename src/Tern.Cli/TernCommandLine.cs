using System.CommandLine;
using Tern.Cli.Commands;

namespace Tern.Cli;

/// <summary>Assembles the `tern` command tree. Each command lives in its own file under Commands/.</summary>
public static class TernCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Tern: live migration of KVM virtual machines.\n" +
            "Start with `tern demo` to boot a guest and watch it run; `tern <command> --help` explains each command.");
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(RunCommand.Build());
        root.Subcommands.Add(InfoCommand.Build());
        root.Subcommands.Add(MigrateCommand.Build());
        root.Subcommands.Add(GuestCommand.Build());
        root.Subcommands.Add(XbzrleCommand.Create());
        return root;
    }
}
