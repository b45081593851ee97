using System.CommandLine;
using Tern.Control.DirtyRate;
using Tern.Control.Qmp;
using Tern.Control.Text;

namespace Tern.Cli.Commands;

/// <summary>
/// <c>tern info migrate --qmp PATH</c>: QEMU's <c>info migrate</c> for a running Tern VM (or a QEMU one);
/// <c>tern info dirty-rate --qmp PATH</c>: measures the dirty rate (<c>calc-dirty-rate</c>) and prints it as QEMU's
/// <c>info dirty_rate</c> does; <c>tern info vcpu-dirty-limit --qmp PATH</c>: QEMU's <c>info vcpu_dirty_limit</c>.
/// </summary>
public static class InfoCommand
{
    public static Command Build()
    {
        var info = new Command("info", "Show information about a running VM, as QEMU's `info` monitor commands do.");
        info.Subcommands.Add(BuildMigrate());
        info.Subcommands.Add(BuildDirtyRate());
        info.Subcommands.Add(BuildVcpuDirtyLimit());
        return info;
    }

    private static Command BuildMigrate() => BuildQuery("migrate",
        "Show the state and statistics of the VM's current or last migration, in the format of QEMU's `info migrate`.",
        async (client, cancel) => InfoMigrateFormatter.Format(await client.QueryMigrateAsync(cancel)));

    private static Command BuildVcpuDirtyLimit() => BuildQuery("vcpu-dirty-limit",
        "Show each vCPU's dirty limit and current dirty rate (QMP query-vcpu-dirty-limit), like QEMU's `info vcpu_dirty_limit`.",
        async (client, cancel) => DirtyLimitFormatter.Format(await client.QueryVcpuDirtyLimitAsync(cancel)));

    private static Option<string> QmpOption() => new("--qmp")
    {
        Description = "The VM's QMP socket, as given to `tern run --qmp unix:PATH` (PATH or unix:PATH)",
        HelpName = "PATH",
        Required = true,
    };

    /// <summary>An <c>info</c> subcommand that runs one QMP query and prints its text.</summary>
    private static Command BuildQuery(string name, string description, Func<QmpClient, CancellationToken, Task<string>> query)
    {
        var qmp = QmpOption();
        var command = new Command(name, description) { qmp };
        command.SetAction(async (parseResult, cancel) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var path = QmpAddress.ParseUnixPath(parseResult.GetValue(qmp)!);
                await using var client = await QmpClient.ConnectAsync(path, cancel);
                await output.WriteAsync(await query(client, cancel));
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

    private static Command BuildDirtyRate()
    {
        var qmp = QmpOption();
        var calcTime = new Option<long>("--calc-time")
        {
            Description = $"Seconds to measure over ({DirtyRateRequest.MinCalcTimeSeconds}-{DirtyRateRequest.MaxCalcTimeSeconds})",
            HelpName = "S",
            DefaultValueFactory = _ => 1,
        };
        var samplePages = new Option<long?>("--sample-pages")
        {
            Description = $"Pages sampled per GiB of guest RAM, page-sampling mode ({DirtyRateRequest.MinSamplePages}-{DirtyRateRequest.MaxSamplePages}, default {DirtyRateRequest.DefaultSamplePages})",
            HelpName = "N",
        };
        var mode = new Option<string>("--mode")
        {
            Description = "page-sampling (hashes sampled pages: no cost to the guest), dirty-bitmap or dirty-ring (dirty tracking on for the window only)",
            HelpName = "MODE",
            DefaultValueFactory = _ => DirtyRateMode.PageSampling.ToQapi(),
        };
        var command = new Command("dirty-rate",
            "Measure how fast the guest dirties memory (QMP calc-dirty-rate) and print the result like QEMU's `info dirty_rate`.")
        {
            qmp, calcTime, samplePages, mode,
        };
        command.SetAction(async (parseResult, cancel) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            string modeText = parseResult.GetValue(mode)!;
            if (!DirtyRateModeNames.TryParse(modeText, out var parsedMode))
            {
                await error.WriteLineAsync($"tern: --mode '{modeText}' is not a mode (page-sampling, dirty-bitmap, dirty-ring)");
                return 2;
            }
            var request = new DirtyRateRequest(parseResult.GetValue(calcTime), parseResult.GetValue(samplePages), parsedMode);
            if (request.Problem() is { } problem)
            {
                await error.WriteLineAsync("tern: " + problem.Replace("calc-time", "--calc-time").Replace("sample-pages", "--sample-pages"));
                return 2;
            }
            try
            {
                var path = QmpAddress.ParseUnixPath(parseResult.GetValue(qmp)!);
                await using var client = await QmpClient.ConnectAsync(path, cancel);
                var measured = await client.MeasureDirtyRateAsync(request, TimeSpan.FromSeconds(10), cancel);
                await output.WriteAsync(DirtyRateFormatter.Format(measured));
                return 0;
            }
            catch (Exception e) when (e is QmpConnectionException or QmpErrorException or FormatException or TimeoutException)
            {
                await error.WriteLineAsync("tern: " + e.Message);
                return 1;
            }
        });
        return command;
    }
}
