namespace Tern.Memory;

/// <summary>The guest page size Tern tracks and migrates: x86-64's 4 KiB base page.</summary>
public static class PageSize
{
    public const int Bytes = 4096;
    public const int Shift = 12;
    public const ulong OffsetMask = Bytes - 1;
}
