using System.Diagnostics;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// A network namespace joined to this one by a veth pair with an address on each end (10.231.N.1 here, 10.231.N.2
/// inside), so that a migration crosses a real link that a test can take down and bring up. Removed in Dispose,
/// whatever happened (deleting the host end deletes the pair). Needs the right to create namespaces (root).
/// </summary>
internal sealed class VethNamespace : IDisposable
{
    private VethNamespace(string name, string hostEnd, int subnet)
    {
        Name = name;
        HostEnd = hostEnd;
        HostAddress = $"10.231.{subnet}.1";
        InsideAddress = $"10.231.{subnet}.2";
    }

    public string Name { get; }
    public string HostEnd { get; }
    public string HostAddress { get; }
    public string InsideAddress { get; }

    /// <summary>Creates the namespace and the link; skips the test, saying why, when namespaces are not permitted here.</summary>
    public static VethNamespace Create()
    {
        int id = Random.Shared.Next(1, 250);
        string suffix = $"{Environment.ProcessId % 10000}{id}";
        var ns = new VethNamespace($"tern-pc-{suffix}", $"tph{suffix}", id);
        var (ok, error) = Ip("netns", "add", ns.Name);
        Assert.SkipUnless(ok, $"skipped: `ip netns add` is not permitted here ({error.Trim()})");
        try
        {
            string inside = $"tpn{suffix}";
            Must("link", "add", ns.HostEnd, "type", "veth", "peer", "name", inside);
            Must("link", "set", inside, "netns", ns.Name);
            Must("addr", "add", $"{ns.HostAddress}/24", "dev", ns.HostEnd);
            Must("link", "set", ns.HostEnd, "up");
            Must("netns", "exec", ns.Name, "ip", "addr", "add", $"{ns.InsideAddress}/24", "dev", inside);
            Must("netns", "exec", ns.Name, "ip", "link", "set", inside, "up");
            Must("netns", "exec", ns.Name, "ip", "link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>Takes the link down (packets stop both ways; no reset reaches either side) or brings it up.</summary>
    public void SetLink(bool up) => Must("link", "set", HostEnd, up ? "up" : "down");

    private static void Must(params string[] arguments)
    {
        var (ok, error) = Ip(arguments);
        Assert.True(ok, $"ip {string.Join(' ', arguments)} failed: {error}");
    }

    private static (bool Ok, string Error) Ip(params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            return (false, "timed out");
        }
        return (p.ExitCode == 0, error);
    }

    public void Dispose()
    {
        Ip("link", "del", HostEnd);
        Ip("netns", "del", Name);
    }
}
