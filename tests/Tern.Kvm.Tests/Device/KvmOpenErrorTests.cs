using Tern.Os;

namespace Tern.Kvm.Tests.Device;

/// <summary>When /dev/kvm cannot be opened, the error says why and what the operator can do.</summary>
public sealed class KvmOpenErrorTests
{
    [Fact]
    public void Opening_kvm_on_a_host_without_it_says_how_to_get_it_or_use_the_simulator()
    {
        // The real absence, through the real open path: no hook redirects it. Hosts with KVM check the other branch.
        Assert.SkipWhen(global::Tern.Kvm.Kvm.IsPresent, "skipped: /dev/kvm is present on this host, so its absence cannot be observed");
        var e = Assert.Throws<KvmUnavailableException>(global::Tern.Kvm.Kvm.Open);
        Assert.Contains("open /dev/kvm failed: ENOENT", e.Message);
        Assert.Contains("modprobe kvm_intel or kvm_amd", e.Message);
        Assert.Contains("--backend sim", e.Message);
        var os = Assert.IsType<OsException>(e.InnerException);
        Assert.Equal(Errno.ENOENT, os.ErrorNumber);
    }

    [Fact]
    public void Opening_kvm_on_a_host_with_it_succeeds_and_checks_the_api_version()
    {
        Assert.SkipUnless(global::Tern.Kvm.Kvm.IsPresent, "skipped: /dev/kvm is absent on this host, so no real VM can run");
        using var kvm = global::Tern.Kvm.Kvm.Open();
        Assert.True(kvm.VcpuMmapSize >= 4096, $"KVM_GET_VCPU_MMAP_SIZE is {kvm.VcpuMmapSize}");
    }

    [Theory]
    [InlineData(Errno.EACCES)]
    [InlineData(Errno.EPERM)]
    public void No_permission_advises_the_kvm_group(int errno)
    {
        var advice = global::Tern.Kvm.Kvm.Advice(errno);
        Assert.NotNull(advice);
        Assert.Contains("usermod -aG kvm", advice);
    }

    [Theory]
    [InlineData(Errno.ENOENT)]
    [InlineData(Errno.ENODEV)]
    [InlineData(Errno.ENXIO)]
    public void A_missing_device_advises_loading_kvm_or_the_simulator(int errno)
    {
        var advice = global::Tern.Kvm.Kvm.Advice(errno);
        Assert.NotNull(advice);
        Assert.Contains("modprobe", advice);
        Assert.Contains("--backend sim", advice);
    }

    [Fact]
    public void The_advice_reaches_the_message_of_a_failed_open()
    {
        // The same path Kvm.Open takes, on a device path that does not exist.
        var e = Assert.Throws<OsException>(() => FileDescriptor.OpenReadWrite("/dev/tern-no-such-device", global::Tern.Kvm.Kvm.Advice));
        Assert.Equal(Errno.ENOENT, e.ErrorNumber);
        Assert.StartsWith("open /dev/tern-no-such-device failed: ENOENT", e.Message);
        Assert.EndsWith(global::Tern.Kvm.Kvm.Advice(Errno.ENOENT)!, e.Message);
    }
}
