namespace Tern.Guest.Multiboot;

/// <summary>Constants of the Multiboot 1 specification (header in the image, info structure from the loader).</summary>
public static class MultibootHeader
{
    public const uint Magic = 0x1BAD_B002;

    /// <summary>The header must lie, 4-byte aligned, within the first 8 KiB of the file.</summary>
    public const int SearchBytes = 8192;

    /// <summary>Flag 0: align modules on 4 KiB pages.</summary>
    public const uint FlagPageAlignModules = 1 << 0;

    /// <summary>Flag 1: the kernel wants mem_lower/mem_upper in the info structure.</summary>
    public const uint FlagMemoryInfo = 1 << 1;

    /// <summary>Flag 2: the kernel wants a video mode.</summary>
    public const uint FlagVideoMode = 1 << 2;

    /// <summary>Flag 16: the address fields (the "a.out kludge") say where to load the file, instead of an ELF header.</summary>
    public const uint FlagAddressFields = 1 << 16;

    /// <summary>Info flag 0: mem_lower and mem_upper are valid.</summary>
    public const uint InfoMemory = 1 << 0;

    /// <summary>Info flag 9: boot_loader_name is valid.</summary>
    public const uint InfoBootLoaderName = 1 << 9;

    /// <summary>Size of the info structure Tern's loader writes (up to and including boot_loader_name at offset 64).</summary>
    public const int InfoBytes = 0x58;
}
