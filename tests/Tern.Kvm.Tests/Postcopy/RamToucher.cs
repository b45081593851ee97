using Microsoft.Win32.SafeHandles;
using Tern.Memory;

namespace Tern.Kvm.Tests.Postcopy;

/// <summary>
/// Reads one page of guest RAM from inside a system call on a thread of its own: <c>pwrite</c> from the page to a temp
/// file, so the kernel takes the read fault, never managed code (a managed thread blocked on a missing page would
/// stall every GC; see KernelToucher in Userfault/). The file then holds what the access read.
/// </summary>
internal sealed class RamToucher : IDisposable
{
    private readonly string path = Path.GetTempFileName();
    private readonly SafeFileHandle file;
    private readonly Thread thread;
    private readonly ManualResetEventSlim done = new();

    private RamToucher(GuestRam ram, PageIndex page)
    {
        file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        thread = new Thread(() =>
        {
            try
            {
                RandomAccess.Write(file, ram.GetPageSpan(page), 0);
            }
            catch (Exception e)
            {
                Failure = e;
            }
            finally
            {
                done.Set();
            }
        }) { IsBackground = true, Name = $"postcopy test reads {page}" };
    }

    public static RamToucher Read(GuestRam ram, PageIndex page)
    {
        var toucher = new RamToucher(ram, page);
        toucher.thread.Start();
        return toucher;
    }

    public Exception? Failure { get; private set; }

    public bool Finished => done.IsSet;

    public bool WaitForCompletion(TimeSpan timeout) => done.Wait(timeout);

    /// <summary>What the access read from the page.</summary>
    public byte[] BytesRead()
    {
        var bytes = new byte[PageSize.Bytes];
        int n = RandomAccess.Read(file, bytes, 0);
        return bytes[..n];
    }

    public void Dispose()
    {
        if (!thread.Join(TimeSpan.FromSeconds(10))) return; // still blocked: leave the file rather than hang
        file.Dispose();
        File.Delete(path);
        done.Dispose();
    }
}
