using Microsoft.Win32.SafeHandles;
using Tern.Os;

namespace Tern.Kvm.Tests.Userfault;

/// <summary>
/// Touches one page of registered memory from a system call on its own thread: <c>pwrite</c> from the page to a temp
/// file (the kernel reads the page: a read fault) or <c>pread</c> from the file into the page (a write fault).
/// </summary>
/// <remarks>
/// Why not a managed load or store: a managed thread blocked on a missing page counts as running managed code and
/// cannot be suspended for a GC, so a GC anywhere in the test process would hang it. Blocked inside the pwrite/pread
/// P/Invoke, the thread is in preemptive mode and a GC does not wait for it. The span over the mapping is only handed
/// to the kernel; managed code never reads it.
/// </remarks>
internal sealed class KernelToucher : IDisposable
{
    private readonly string path;
    private readonly SafeFileHandle file;
    private readonly Thread thread;
    private readonly ManualResetEventSlim done = new();
    private volatile int threadId;

    public enum Access { ReadsPage, WritesPage }

    private KernelToucher(MemoryMapping mapping, ulong offset, int length, Access access, byte fileFill)
    {
        path = Path.GetTempFileName();
        File.WriteAllBytes(path, Enumerable.Repeat(fileFill, length).ToArray());
        file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        thread = new Thread(() => Touch(mapping, offset, length, access)) { IsBackground = true, Name = "uffd test toucher" };
    }

    /// <summary>Starts the touch; the file initially holds <paramref name="length"/> bytes of <paramref name="fileFill"/>.</summary>
    public static KernelToucher Start(MemoryMapping mapping, ulong offset, int length, Access access, byte fileFill = 0xEE)
    {
        var toucher = new KernelToucher(mapping, offset, length, access, fileFill);
        toucher.thread.Start();
        return toucher;
    }

    /// <summary>The failure of the system call, if it failed (EFAULT when the userfaultfd closed under it).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The kernel's id of the touching thread, once it has started.</summary>
    public int ThreadId => threadId;

    public bool Finished => done.IsSet;

    public bool WaitForCompletion(TimeSpan timeout) => done.Wait(timeout);

    /// <summary>What the file holds now (after a ReadsPage touch: the bytes the kernel read from the page).</summary>
    public byte[] FileContents() => File.ReadAllBytes(path);

    private void Touch(MemoryMapping mapping, ulong offset, int length, Access access)
    {
        try
        {
            threadId = NativeThread.Current().ThreadId;
            var page = mapping.GetSpan(offset, length);
            int n = length;
            if (access == Access.ReadsPage) RandomAccess.Write(file, page, 0);
            else n = RandomAccess.Read(file, page, 0);
            if (n != length) throw new IOException($"moved {n} of {length} bytes");
        }
        catch (Exception e)
        {
            Failure = e;
        }
        finally
        {
            done.Set();
        }
    }

    /// <summary>Only after the userfaultfd is closed, which releases a thread still blocked on a missing page.</summary>
    public void Dispose()
    {
        if (thread.Join(TimeSpan.FromSeconds(10)))
        {
            file.Dispose();
            File.Delete(path);
            done.Dispose();
        }
    }
}
