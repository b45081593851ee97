using Tern.Guest;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>Small helpers shared by the guest tests.</summary>
internal static class GuestFixtures
{
    public const ulong MiB = 1UL << 20;

    /// <summary>A plausible TSC frequency for images that never run.</summary>
    public const ulong TscKhz = 2_400_000;

    public static GuestImage Build(string spec, ulong ramMiB = 64, int vcpus = 1) =>
        GuestImageBuilder.Build(GuestWorkload.Parse(spec), ramMiB * MiB, new GuestBuildOptions(vcpus, TscKhz));

    /// <summary>A zeroed RAM buffer holding the image's blobs, as a VMM would prepare it.</summary>
    public static byte[] Ram(GuestImage image)
    {
        var ram = new byte[image.RamBytes];
        image.CopyTo(ram);
        return ram;
    }

    public static GuestBlob Blob(GuestImage image, string name) => image.Blobs.Single(b => b.Name == name);
}
