namespace Tern.Control.Tests.Support;

/// <summary>Short unique socket paths (unix socket paths are limited to 107 bytes).</summary>
public static class TestSocketPath
{
    public static string Create() => Path.Combine("/tmp", $"tern-qmp-test-{Guid.NewGuid():N}"[..30] + ".sock");
}
