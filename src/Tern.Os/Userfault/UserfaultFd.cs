using System.Runtime.InteropServices;
using Tern.Os.Libc;

namespace Tern.Os.Userfault;

/// <summary>
/// One userfaultfd: ranges registered in MISSING mode make any access to a page not yet present block the accessing
/// thread (user or kernel mode, including KVM on behalf of a vCPU) and queue a message here; the server answers with
/// <see cref="Copy"/> or <see cref="ZeroPage"/>, which place the page atomically and wake the thread.
/// </summary>
/// <remarks>
/// The serving path (<see cref="WaitForMessage"/>, <see cref="TryReadMessage"/>, <see cref="Copy"/>,
/// <see cref="ZeroPage"/>, <see cref="Wake"/>) allocates nothing except when it throws. That matters: a managed
/// thread blocked on a missing page cannot be suspended for a GC, so a server that allocates can trigger a GC
/// that waits forever for the thread it is meant to release. Closing the fd (Dispose) unregisters every range and
/// wakes every blocked thread (their accesses then fail: SIGBUS in user mode, EFAULT in a system call).
/// </remarks>
public sealed unsafe class UserfaultFd : IDisposable
{
    private readonly FileDescriptor fd;

    private UserfaultFd(FileDescriptor fd, UserfaultFeatures features)
    {
        this.fd = fd;
        Features = features;
    }

    /// <summary>The features the handshake granted (at least those required).</summary>
    public UserfaultFeatures Features { get; }

    /// <summary>The host page size: every range and copy must be aligned to it.</summary>
    public static int PageSize { get; } = Environment.SystemPageSize;

    /// <summary>
    /// Opens a userfaultfd and performs the API handshake, requiring <paramref name="required"/> (by default
    /// MISSING mode on memfd memory). Throws <see cref="OsException"/> saying what to do when userfaultfd is not
    /// permitted or the kernel lacks a required feature.
    /// </summary>
    public static UserfaultFd Open(UserfaultFeatures required = UserfaultFeatures.MissingShmem, bool nonBlocking = true)
    {
        var fd = UserfaultOpener.Create(nonBlocking);
        try
        {
            return new UserfaultFd(fd, UserfaultOpener.Handshake(fd, required, nonBlocking));
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Registers [<paramref name="start"/>, +<paramref name="length"/>) in MISSING mode, and with
    /// <paramref name="minor"/> in MINOR mode too (memfd memory, <see cref="UserfaultFeatures.MinorShmem"/>). The range
    /// must be page-aligned and lie inside one or more mappings that support it (memfd MAP_SHARED, anonymous, hugetlbfs).
    /// </summary>
    public UserfaultRegistration Register(nint start, ulong length, bool minor = false)
    {
        RequirePageRange(start, length);
        var register = new UffdioRegister
        {
            Range = new UffdioRange { Start = (ulong)start, Len = length },
            Mode = UserfaultIoctls.RegisterModeMissing | (minor ? UserfaultIoctls.RegisterModeMinor : 0),
        };
        // &register is a stack local that lives across the call; the kernel fills in Ioctls.
        if (Ioctl.TryCall(fd, UserfaultIoctls.Register, &register, out int errno) < 0)
            throw new OsException($"ioctl UFFDIO_REGISTER of {length} bytes at 0x{start:x} in {(minor ? "MISSING and MINOR modes" : "MISSING mode")}", errno,
                errno == Errno.EINVAL ? "the range must be page-aligned and wholly inside mappings userfaultfd supports (memfd shared, anonymous, hugetlbfs)" : null);
        bool canCopy = (register.Ioctls & (1UL << UserfaultIoctls.CopyNumber)) != 0;
        if (!canCopy)
            throw new OsException($"ioctl UFFDIO_REGISTER of {length} bytes at 0x{start:x}", Errno.EOPNOTSUPP,
                "the kernel registered the range but allows no UFFDIO_COPY on it, so its pages could never be served");
        return new UserfaultRegistration(start, length, CanZeroPage: (register.Ioctls & (1UL << UserfaultIoctls.ZeroPageNumber)) != 0);
    }

    /// <summary>Stops tracking a range: its missing pages are then filled by the kernel as usual (zero for a new memfd page).</summary>
    public void Unregister(nint start, ulong length)
    {
        RequirePageRange(start, length);
        var range = new UffdioRange { Start = (ulong)start, Len = length };
        // &range is a stack local that lives across the call.
        if (Ioctl.TryCall(fd, UserfaultIoctls.Unregister, &range, out int errno) < 0)
            throw new OsException($"ioctl UFFDIO_UNREGISTER of {length} bytes at 0x{start:x}", errno);
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> (-1: forever) for a message to read. False on timeout or
    /// when a signal interrupted the wait, so a server loop can check whether it was asked to stop.
    /// </summary>
    public bool WaitForMessage(int timeoutMilliseconds)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            var poll = new PollFd { Fd = fd.Number, Events = LibCConstants.POLLIN };
            // &poll is a stack local; the AddRef above keeps the descriptor number valid for the call.
            int rc = LibC.Poll(&poll, 1, timeoutMilliseconds);
            if (rc > 0) return true;
            if (rc == 0) return false;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR) return false;
            throw new OsException("poll on the userfaultfd", errno);
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }

    /// <summary>
    /// Reads one message if there is one. On a non-blocking fd returns false when none is queued; on a blocking fd
    /// waits for one (false only if a signal interrupted the wait).
    /// </summary>
    public bool TryReadMessage(out UserfaultMessage message)
    {
        UffdMsg raw;
        // &raw is a stack local of exactly the 32 bytes the kernel writes per message.
        nint n = LibC.Read(fd, &raw, (nuint)sizeof(UffdMsg));
        if (n == sizeof(UffdMsg))
        {
            message = UserfaultMessage.From(raw);
            return true;
        }
        message = default;
        if (n < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) return false;
            throw new OsException("read of a userfaultfd message", errno);
        }
        throw new OsException($"read of a userfaultfd message (got {n} of {sizeof(UffdMsg)} bytes)", Errno.EIO);
    }

    /// <summary>Blocks until a message arrives and returns it (on either kind of fd).</summary>
    public UserfaultMessage ReadMessage()
    {
        UserfaultMessage message;
        while (!TryReadMessage(out message)) WaitForMessage(-1);
        return message;
    }

    /// <summary>
    /// Places <paramref name="source"/> (a whole number of pages) at <paramref name="destination"/> (page-aligned,
    /// registered) atomically, and wakes the threads waiting on those pages unless <paramref name="wake"/> is false.
    /// A page already present (EEXIST) is left as it is and skipped; EAGAIN (the address space was changing, or a
    /// partial copy) is retried from where the kernel stopped.
    /// </summary>
    public PagePlacement Copy(nint destination, ReadOnlySpan<byte> source, bool wake = true)
    {
        // `fixed` pins the source for the duration of the ioctls; the kernel only reads from it.
        fixed (byte* from = source) return Place(Placement.Copy, destination, (ulong)source.Length, (ulong)from, wake);
    }

    /// <summary>
    /// Maps the shared zero page (or zero-filled pages, for memfd memory) at [<paramref name="destination"/>,
    /// +<paramref name="length"/>) and wakes the waiters unless <paramref name="wake"/> is false; cheaper than
    /// copying zeros. Present pages are skipped, as by <see cref="Copy"/>. Not offered on hugetlbfs ranges
    /// (<see cref="UserfaultRegistration.CanZeroPage"/>).
    /// </summary>
    public PagePlacement ZeroPage(nint destination, ulong length, bool wake = true) =>
        Place(Placement.ZeroPage, destination, length, 0, wake);

    /// <summary>
    /// Maps the pages of [<paramref name="destination"/>, +<paramref name="length"/>) that are in the file but not
    /// mapped (registered in MINOR mode, their data written through the file) and wakes the waiters unless
    /// <paramref name="wake"/> is false. Pages already mapped are skipped, as by <see cref="Copy"/>.
    /// </summary>
    public PagePlacement Continue(nint destination, ulong length, bool wake = true) =>
        Place(Placement.Continue, destination, length, 0, wake);

    /// <summary>The three ioctls that place pages in a registered range.</summary>
    private enum Placement { Copy, ZeroPage, Continue }

    /// <summary>
    /// Places [<paramref name="destination"/>, +<paramref name="length"/>) with <paramref name="op"/> (from
    /// <paramref name="source"/> for a copy). A page already present (EEXIST) is left as it is and skipped; EAGAIN and
    /// EINTR are retried from where the kernel stopped.
    /// </summary>
    private PagePlacement Place(Placement op, nint destination, ulong length, ulong source, bool wake)
    {
        RequirePageRange(destination, length);
        var placement = PagePlacement.Placed;
        ulong done = 0;
        while (done < length)
        {
            if (Step(op, (ulong)destination + done, source + done, length - done, wake, out long progressed, out int errno) == 0) return placement;
            if (progressed > 0) done += (ulong)progressed;
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) continue;
            if (errno != Errno.EEXIST) ThrowPlacementFailed(IoctlName(op), destination + (nint)done, length - done, errno);
            placement = SkipPresentPage(destination + (nint)done, wake, ref done);
        }
        return placement;
    }

    /// <summary>One ioctl of <paramref name="op"/>; <paramref name="progressed"/> is the bytes the kernel says it placed.</summary>
    private int Step(Placement op, ulong start, ulong source, ulong length, bool wake, out long progressed, out int errno)
    {
        // Each request is a stack local that lives across its call; the kernel writes the bytes placed into it.
        int result;
        switch (op)
        {
            case Placement.Copy:
                var copy = new UffdioCopy { Dst = start, Src = source, Len = length, Mode = wake ? 0 : UserfaultIoctls.CopyModeDontWake };
                result = Ioctl.TryCall(fd, UserfaultIoctls.Copy, &copy, out errno);
                progressed = copy.Copy;
                break;
            case Placement.ZeroPage:
                var zero = new UffdioZeropage { Range = new UffdioRange { Start = start, Len = length }, Mode = wake ? 0 : UserfaultIoctls.ZeroPageModeDontWake };
                result = Ioctl.TryCall(fd, UserfaultIoctls.ZeroPage, &zero, out errno);
                progressed = zero.Zeropage;
                break;
            default:
                var map = new UffdioContinue { Range = new UffdioRange { Start = start, Len = length }, Mode = wake ? 0 : UserfaultIoctls.ContinueModeDontWake };
                result = Ioctl.TryCall(fd, UserfaultIoctls.Continue, &map, out errno);
                progressed = map.Mapped;
                break;
        }
        return result;
    }

    private static string IoctlName(Placement op) => op switch
    {
        Placement.Copy => "UFFDIO_COPY",
        Placement.ZeroPage => "UFFDIO_ZEROPAGE",
        _ => "UFFDIO_CONTINUE",
    };

    /// <summary>
    /// Whether this kernel offers MINOR mode on memfd memory (<see cref="UserfaultFeatures.MinorShmem"/>): asked once,
    /// by a handshake on a userfaultfd of its own.
    /// </summary>
    public static bool SupportsMinorShmem => minorShmem.Value;

    private static readonly Lazy<bool> minorShmem = new(() =>
    {
        try
        {
            using var probe = Open(UserfaultFeatures.MissingShmem | UserfaultFeatures.MinorShmem);
            return true;
        }
        catch (OsException)
        {
            return false;
        }
    });

    /// <summary>
    /// Wakes the threads waiting on a range, for pages placed with wake false (so that several placements cost
    /// one wake-up).
    /// </summary>
    public void Wake(nint start, ulong length)
    {
        RequirePageRange(start, length);
        var range = new UffdioRange { Start = (ulong)start, Len = length };
        // &range is a stack local that lives across the call.
        if (Ioctl.TryCall(fd, UserfaultIoctls.Wake, &range, out int errno) < 0)
            ThrowPlacementFailed("UFFDIO_WAKE", start, length, errno);
    }

    /// <summary>
    /// The page at <paramref name="page"/> was already there (EEXIST). A thread may still wait on it (if it was placed
    /// without a wake), so wake it when asked to, then carry on after it.
    /// </summary>
    private PagePlacement SkipPresentPage(nint page, bool wake, ref ulong done)
    {
        if (wake) Wake(page, (ulong)PageSize);
        done += (ulong)PageSize;
        return PagePlacement.SomeAlreadyPresent;
    }

    public void Dispose() => fd.Dispose();

    private static void RequirePageRange(nint start, ulong length)
    {
        if (start % PageSize != 0 || length == 0 || length % (ulong)PageSize != 0)
            ThrowNotPageAligned(start, length);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNotPageAligned(nint start, ulong length) =>
        throw new ArgumentException(
            $"userfaultfd ranges must be whole {PageSize}-byte pages: got {length} bytes at 0x{start:x}");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowPlacementFailed(string ioctl, nint start, ulong length, int errno) =>
        throw new OsException($"ioctl {ioctl} of {length} bytes at 0x{start:x}", errno,
            errno == Errno.ENOENT ? "the range is no longer registered (or no longer mapped)" : null);
}

/// <summary>A range registered in MISSING mode, and whether UFFDIO_ZEROPAGE may be used on it.</summary>
public readonly record struct UserfaultRegistration(nint Start, ulong Length, bool CanZeroPage);
