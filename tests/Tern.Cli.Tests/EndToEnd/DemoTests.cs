namespace Tern.Cli.Tests.EndToEnd;

/// <summary>The main job, as the README's first command runs it (smaller, to keep the suite quick).</summary>
[Collection(ProcessCollection.Name)]
public sealed class DemoTests
{
    [Fact]
    public async Task Tern_demo_migrates_a_dirtying_guest_verifies_it_and_reports()
    {
        var (code, output, error) = await TernRun.InvokeAsync("demo", "--memory", "256M", "--workload", "seq:ws=64M,rate=100");
        Assert.True(code == 0, $"{output}\n{error}");
        Assert.Contains("Migration status: completed", output);
        Assert.Contains("source is postmigrate, destination is running", output);
        Assert.Contains("the guest continues on the destination", output);
        Assert.Contains("as the guest saw it", output);
        Assert.Contains("verified: all", output);
        Assert.Contains("the guest's memory on the destination matches its workload model (16384 pages checked)", output);
    }
}
