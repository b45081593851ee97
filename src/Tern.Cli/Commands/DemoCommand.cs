using System.CommandLine;
using Tern.Cli.Demo;
using Tern.Machine;

namespace Tern.Cli.Commands;

/// <summary><c>tern demo</c>: live-migrates a dirtying guest between two VM processes on this machine and reports.</summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var backend = new Option<MachineBackend>("--backend") { Description = "kvm, sim, or auto", DefaultValueFactory = _ => MachineBackend.Auto };
        var memory = new Option<string>("--memory", "-m") { Description = "Guest RAM", HelpName = "SIZE", DefaultValueFactory = _ => "1G" };
        var vcpus = new Option<int>("--vcpus") { Description = "vCPUs", HelpName = "N", DefaultValueFactory = _ => 2 };
        var workload = new Option<string>("--workload", "-w")
        {
            Description = "The guest's workload (see tern run --help)",
            HelpName = "SPEC",
            DefaultValueFactory = _ => "seq:ws=256M,rate=200",
        };
        var downtime = new Option<long>("--downtime-limit") { Description = "Downtime budget in ms", HelpName = "MS", DefaultValueFactory = _ => 300 };
        var command = new Command("demo",
            "The main job: start a source and a destination VM process here, run a dirtying guest, live-migrate it with " +
            "verification, and print the report.")
        {
            backend, memory, vcpus, workload, downtime,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var options = new DemoOptions(parse.GetValue(backend), parse.GetValue(memory)!, parse.GetValue(vcpus),
                parse.GetValue(workload)!, parse.GetValue(downtime));
            return await new DemoRunner(options, parse.InvocationConfiguration.Output).RunAsync(cancel);
        });
        return command;
    }
}
