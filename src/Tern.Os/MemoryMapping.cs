using System.Runtime.InteropServices;
using Tern.Os.Libc;

namespace Tern.Os;

/// <summary>
/// An owned <c>mmap</c> region, unmapped exactly once. Safe code reaches its bytes only through bounds-checked
/// spans; the raw address is exposed for the kernel (KVM memory slots, userfaultfd ranges).
/// </summary>
public sealed unsafe class MemoryMapping : SafeHandle
{
    private MemoryMapping(void* address, ulong length) : base(nint.Zero, ownsHandle: true)
    {
        SetHandle((nint)address);
        Length = length;
    }

    public ulong Length { get; }

    /// <summary>The host virtual address of the first byte. For handing to the kernel only.</summary>
    public nint Address => handle;

    public override bool IsInvalid => handle == nint.Zero || handle == new nint(-1);

    protected override bool ReleaseHandle() => LibC.Munmap((void*)handle, (nuint)Length) == 0;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> shared and read-write.</summary>
    public static MemoryMapping MapShared(FileDescriptor fd, ulong length, long offset = 0, bool hugePages = false)
    {
        int flags = LibCConstants.MAP_SHARED | (hugePages ? LibCConstants.MAP_HUGETLB : 0);
        return Map(fd, length, offset, LibCConstants.PROT_READ | LibCConstants.PROT_WRITE, flags, $"mmap {length} bytes shared");
    }

    /// <summary>Maps anonymous private memory (zero-filled, committed lazily).</summary>
    public static MemoryMapping MapAnonymous(ulong length, bool executable = false)
    {
        int prot = LibCConstants.PROT_READ | LibCConstants.PROT_WRITE | (executable ? LibCConstants.PROT_EXEC : 0);
        int flags = LibCConstants.MAP_PRIVATE | LibCConstants.MAP_ANONYMOUS | LibCConstants.MAP_NORESERVE;
        void* p = LibC.Mmap(null, (nuint)length, prot, flags, -1, 0);
        if (p == (void*)-1) OsException.ThrowLastError($"mmap {length} anonymous bytes");
        return new MemoryMapping(p, length);
    }

    internal static MemoryMapping Map(FileDescriptor fd, ulong length, long offset, int protection, int flags, string what)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            void* p = LibC.Mmap(null, (nuint)length, protection, flags, fd.Number, offset);
            if (p == (void*)-1) OsException.ThrowLastError(what);
            return new MemoryMapping(p, length);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>A bounds-checked view of <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    /// <remarks>The span is valid while this mapping is alive; the owner of the mapping guarantees that.</remarks>
    public Span<byte> GetSpan(ulong offset, int length)
    {
        if (length < 0 || offset > Length || (ulong)length > Length - offset)
            ThrowOutOfRange(offset, length);
        ObjectDisposedException.ThrowIf(IsClosed, this);
        // The mapping covers [handle, handle + Length) and the check above keeps the span inside it.
        return new Span<byte>((byte*)handle + offset, length);
    }

    /// <summary>Asks the kernel to populate (pre-fault) a range for writing, so first touches do not fault later.</summary>
    public void PopulateWrite(ulong offset, ulong length)
    {
        if (offset > Length || length > Length - offset) ThrowOutOfRange(offset, (int)Math.Min(length, int.MaxValue));
        if (LibC.Madvise((byte*)handle + offset, (nuint)length, LibCConstants.MADV_POPULATE_WRITE) != 0)
            OsException.ThrowLastError("madvise(MADV_POPULATE_WRITE)");
    }

    /// <summary>
    /// <see cref="PopulateWrite"/> where the kernel supports it (Linux 5.14 and later): false on EINVAL, the answer of
    /// an older kernel to an advice it does not know. Any other failure (ENOMEM: the memory is not there) throws.
    /// </summary>
    public bool TryPopulateWrite(ulong offset, ulong length)
    {
        if (offset > Length || length > Length - offset) ThrowOutOfRange(offset, (int)Math.Min(length, int.MaxValue));
        if (LibC.Madvise((byte*)handle + offset, (nuint)length, LibCConstants.MADV_POPULATE_WRITE) == 0) return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.EINVAL) return false;
        throw new OsException("madvise(MADV_POPULATE_WRITE)", errno);
    }

    /// <summary>
    /// Asks for transparent huge pages over the whole mapping (MADV_HUGEPAGE), as QEMU does for guest RAM. For a memfd
    /// the kernel honours it only when shmem THP allows advice (<c>/sys/kernel/mm/transparent_hugepage/shmem_enabled</c>
    /// = advise, within_size or always); elsewhere it is accepted and changes nothing. False when the kernel refuses it
    /// (no THP support).
    /// </summary>
    public bool TryAdviseHugePages()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        // The whole mapping, [handle, handle + Length): madvise only records the advice on it.
        return LibC.Madvise((byte*)handle, (nuint)Length, LibCConstants.MADV_HUGEPAGE) == 0;
    }

    /// <summary>
    /// Unmaps a range of a shared file mapping from this process's page tables (MADV_DONTNEED) and keeps the file's
    /// pages and their data: the next access maps them again (through userfaultfd, if the range is registered in MINOR
    /// mode). KVM drops its own mappings of the range too (its MMU notifier).
    /// </summary>
    public void Unmap(ulong offset, ulong length)
    {
        if (offset > Length || length > Length - offset) ThrowOutOfRange(offset, (int)Math.Min(length, int.MaxValue));
        if (LibC.Madvise((byte*)handle + offset, (nuint)length, LibCConstants.MADV_DONTNEED) != 0)
            OsException.ThrowLastError("madvise(MADV_DONTNEED)");
    }

    /// <summary>Drops the backing pages of a range of a shared file mapping (they read back as zero).</summary>
    public void Discard(ulong offset, ulong length)
    {
        if (offset > Length || length > Length - offset) ThrowOutOfRange(offset, (int)Math.Min(length, int.MaxValue));
        if (LibC.Madvise((byte*)handle + offset, (nuint)length, LibCConstants.MADV_REMOVE) != 0)
            OsException.ThrowLastError("madvise(MADV_REMOVE)");
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowOutOfRange(ulong offset, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) is outside a mapping of {Length} bytes");
}
