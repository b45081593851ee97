using System.CommandLine;
using Tern.Control.Qmp;
using Tern.Control.Text;

namespace Tern.Cli.Commands;

/// <summary><c>tern info migrate --qmp PATH</c>: QEMU's <c>info migrate</c> for a running Tern VM (or a QEMU one).</summary>
public static class InfoCommand
{
    public static Command Build()
    {
        var info = new Command("info", "Show information about a running VM, as QEMU's `info` monitor commands do.");
        info.Subcommands.Add(BuildMigrate());
        return info;
    }

    private static Command BuildMigrate()
    {
        var qmp = new Option<string>("--qmp")
        {
            Description = "The VM's QMP socket, as given to `tern run --qmp unix:PATH` (PATH or unix:PATH)",
            HelpName = "PATH",
            Required = true,
        };
        var command = new Command("migrate",
            "Show the state and statistics of the VM's current or last migration, in the format of QEMU's `info migrate`.")
        {
            qmp,
        };
        command.SetAction(async (parseResult, cancel) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var path = QmpAddress.ParseUnixPath(parseResult.GetValue(qmp)!);
                await using var client = await QmpClient.ConnectAsync(path, cancel);
                var migration = await client.QueryMigrateAsync(cancel);
                await output.WriteAsync(InfoMigrateFormatter.Format(migration));
                return 0;
            }
            catch (Exception e) when (e is QmpConnectionException or QmpErrorException or FormatException)
            {
                await error.WriteLineAsync("tern: " + e.Message);
                return 1;
            }
        });
        return command;
    }
}
