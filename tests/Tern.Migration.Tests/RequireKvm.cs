namespace Tern.Migration.Tests;

/// <summary>KVM tests skip, saying so, only on a host without /dev/kvm.</summary>
internal static class RequireKvm
{
    public static void Present() =>
        Assert.SkipUnless(global::Tern.Kvm.Kvm.IsPresent, "skipped: /dev/kvm is absent on this host, so no real VM can run");
}
