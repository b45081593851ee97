using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using Spectre.Console;
using Tern.Control.Qmp;
using Tern.Control.Text;
using Tern.Memory;
using Tern.Migration.Api;

namespace Tern.Cli.Commands;

/// <summary>
/// <c>tern migrate --qmp PATH tcp:HOST:PORT|unix:PATH [options]</c>: migrates a running VM through its QMP socket, shows live
/// progress, and ends with the final statistics. Exit code 0 when the migration completed, 1 otherwise.
/// Ctrl-C cancels the migration (the guest keeps running here); a second Ctrl-C quits without waiting.
/// </summary>
public static class MigrateCommand
{
    /// <summary>In plain-text output, a progress line is repeated at least this often even when nothing changes.</summary>
    private static readonly TimeSpan PlainProgressInterval = TimeSpan.FromSeconds(2);

    public static Command Build()
    {
        var qmp = new Option<string>("--qmp")
        {
            Description = "The VM's QMP socket, as given to `tern run --qmp unix:PATH` (PATH or unix:PATH)",
            HelpName = "PATH",
            Required = true,
        };
        var uri = new Argument<string>("uri")
        {
            Description = "Where to: tcp:HOST:PORT or unix:PATH, where the destination waits with `tern run --incoming` and the same URI",
        };
        var verify = new Option<bool>("--verify")
        {
            Description = "Compare a digest of all guest RAM on both sides before the destination resumes (x-verify)",
        };
        var xbzrle = new Option<bool>("--xbzrle") { Description = "Send re-dirtied pages as deltas against a cache (xbzrle)" };
        var compress = new Option<bool>("--compress") { Description = "Compress page data (compress; see x-compress-method)" };
        var channels = new Option<int?>("--channels")
        {
            Description = "Send page data over N parallel connections (multifd with multifd-channels N)",
            HelpName = "N",
        };
        var downtime = new Option<long?>("--downtime-limit")
        {
            Description = "The longest the guest may be paused for the final copy, in ms (downtime-limit; default 300)",
            HelpName = "MS",
        };
        var bandwidth = new Option<ulong?>("--max-bandwidth")
        {
            Description = "Cap on page data in bytes per second, e.g. 125000000 or 100M; 0 means unlimited (max-bandwidth)",
            HelpName = "BYTES/s",
            CustomParser = ParseBandwidth,
        };
        var memoryBudget = new Option<ulong?>("--memory-budget")
        {
            Description = "Host memory Tern's caches may use, e.g. 2G (x-memory-budget; default a quarter of available host memory)",
            HelpName = "SIZE",
            CustomParser = r => ParseSize(r, "--memory-budget"),
        };
        var cacheSize = new Option<ulong?>("--xbzrle-cache-size")
        {
            Description = "A fixed XBZRLE cache size, e.g. 256M; by default it is sized from the measured working set",
            HelpName = "SIZE",
            CustomParser = r => ParseSize(r, "--xbzrle-cache-size"),
        };
        var method = new Option<string?>("--compress-method")
        {
            Description = "Page compression codec: zstd, lz4 or zlib (x-compress-method; default zstd)",
            HelpName = "CODEC",
        };
        method.AcceptOnlyFromAmong("zstd", "lz4", "zlib");
        var timeout = new Option<long?>("--timeout")
        {
            Description = "Give up after this many seconds; the guest keeps running here (x-timeout)",
            HelpName = "S",
        };
        var autoConverge = new Option<bool>("--auto-converge")
        {
            Description = "Throttle the guest when it dirties memory faster than the link sends it (auto-converge)",
        };
        var throttleMethod = new Option<string?>("--throttle-method")
        {
            Description = "computed (default: only as much as convergence needs, only the vCPUs that dirty) or step (QEMU's algorithm)",
            HelpName = "METHOD",
        };
        throttleMethod.AcceptOnlyFromAmong("computed", "step");
        var dirtyLimit = new Option<ulong?>("--dirty-limit")
        {
            Description = "Limit each vCPU's dirty rate to this many MB/s while migrating (dirty-limit; needs --dirty-tracking ring)",
            HelpName = "MB/s",
        };
        RejectBelow(dirtyLimit, 1UL);
        RejectBelow(channels, 1);
        RejectBelow(downtime, 1);
        RejectBelow(timeout, 0);
        timeout.Validators.Add(r =>
        {
            if (r.GetValue(timeout) > long.MaxValue / 1000) r.AddError("--timeout is too large");
        });

        var command = new Command("migrate", "Migrate a running VM to another host, live, through its QMP socket.")
        {
            qmp, uri, verify, xbzrle, compress, channels, downtime, bandwidth, timeout, memoryBudget, cacheSize, method,
            autoConverge, throttleMethod, dirtyLimit,
        };
        // A synchronous action: Ctrl-C must cancel the migration and then wait for the VM to confirm, which can take
        // longer than the grace period System.CommandLine gives asynchronous actions.
        command.SetAction(parseResult =>
        {
            var request = new MigrateRequest(parseResult.GetValue(uri)!)
            {
                Verify = parseResult.GetValue(verify),
                Xbzrle = parseResult.GetValue(xbzrle),
                Compress = parseResult.GetValue(compress),
                Channels = parseResult.GetValue(channels),
                DowntimeLimitMs = parseResult.GetValue(downtime),
                MaxBandwidth = parseResult.GetValue(bandwidth),
                TimeoutMs = parseResult.GetValue(timeout) * 1000,
                MemoryBudget = parseResult.GetValue(memoryBudget),
                XbzrleCacheSize = parseResult.GetValue(cacheSize),
                CompressMethod = parseResult.GetValue(method),
                AutoConverge = parseResult.GetValue(autoConverge) || parseResult.GetValue(throttleMethod) is not null,
                ThrottleMethod = parseResult.GetValue(throttleMethod),
                DirtyLimit = parseResult.GetValue(dirtyLimit),
            };
            return Run(parseResult.GetValue(qmp)!, request, parseResult.InvocationConfiguration);
        });
        return command;
    }

    private static int Run(string qmpAddress, MigrateRequest request, InvocationConfiguration console)
    {
        var output = console.Output;
        var error = console.Error;
        using var cancel = new CancellationTokenSource();
        using var onCtrlC = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            if (cancel.IsCancellationRequested)
            {
                return;   // second Ctrl-C: let the process end
            }
            context.Cancel = true;
            error.WriteLine("tern: cancelling the migration (Ctrl-C again to quit without waiting)");
            cancel.Cancel();
        });

        try
        {
            var path = QmpAddress.ParseUnixPath(qmpAddress);
            var final = RunAsync(path, request, output, cancel.Token).GetAwaiter().GetResult();
            output.Write(InfoMigrateFormatter.Format(final));
            switch (final.Status)
            {
                case MigrationStatus.Completed:
                    return 0;
                case MigrationStatus.Cancelled:
                    error.WriteLine("tern: migration cancelled" + (final.ErrorDesc is { } why ? $": {why}" : "") +
                                    "; the VM keeps running here");
                    return 1;
                default:
                    error.WriteLine($"tern: migration {final.Status.ToQapi()}: {final.ErrorDesc ?? "no reason given"}; " +
                                    "the VM keeps running here");
                    return 1;
            }
        }
        catch (QmpErrorException e)
        {
            error.WriteLine($"tern: the VM refused {e.Command}: {e.Description}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("tern: cancelled before the migration started");
            return 1;
        }
        catch (Exception e) when (e is QmpConnectionException or FormatException)
        {
            error.WriteLine("tern: " + e.Message);
            return 1;
        }
    }

    private static async Task<MigrationInfo> RunAsync(string path, MigrateRequest request, TextWriter output, CancellationToken cancel)
    {
        // Connecting is not cancelled by Ctrl-C: before migrate is sent there is nothing to cancel, and the process ends.
        await using var client = await QmpClient.ConnectAsync(path);
        var runner = new QmpMigrationRunner(client, QmpMigrationRunner.DefaultPollInterval);
        if (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await AnsiConsole.Status().StartAsync($"migrating to {Markup.Escape(request.Uri)}", status =>
                runner.RunAsync(request, p => status.Status(Markup.Escape(MigrationProgressText.Describe(p))), cancel));
        }

        var lastStatus = (MigrationStatus?)null;
        var lastPass = -1L;
        var lastWrite = DateTime.MinValue;
        return await runner.RunAsync(request, p =>
        {
            // Plain output (a log, a pipe): a line when the status or pass changes, and every few seconds meanwhile.
            var now = DateTime.UtcNow;
            if (p.Info.Status != lastStatus || p.Pass != lastPass || now - lastWrite >= PlainProgressInterval)
            {
                output.WriteLine(MigrationProgressText.Describe(p));
                (lastStatus, lastPass, lastWrite) = (p.Info.Status, p.Pass, now);
            }
        }, cancel);
    }

    private static ulong? ParseBandwidth(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (ByteSize.TryParse(text, out var bytes))
        {
            return bytes;
        }
        result.AddError($"--max-bandwidth: '{text}' is not a rate in bytes per second (examples: 125000000, 100M, 1G)");
        return null;
    }

    private static ulong? ParseSize(ArgumentResult result, string option)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (ByteSize.TryParse(text, out var bytes)) return bytes;
        result.AddError($"{option}: '{text}' is not a size (examples: 512M, 2G)");
        return null;
    }

    private static void RejectBelow<T>(Option<T?> option, T minimum) where T : struct, IComparable<T>
    {
        option.Validators.Add(r =>
        {
            if (r.GetValue(option) is { } value && value.CompareTo(minimum) < 0)
            {
                r.AddError($"{option.Name} must be at least {minimum}, not {value}");
            }
        });
    }
}
