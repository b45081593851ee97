using System.Diagnostics;
using Tern.Kvm;

namespace Tern.Memory.Dirty;

/// <summary>
/// Dirty tracking with KVM's per-slot dirty bitmap. With <c>KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2</c> (enabled by the machine
/// before it created the slots, with INITIALLY_SET) <c>KVM_GET_DIRTY_LOG</c> only reads the bitmap and
/// <c>KVM_CLEAR_DIRTY_LOG</c> re-arms write protection, in chunks covering just the runs of dirty pages; without it,
/// <c>KVM_GET_DIRTY_LOG</c> reads and re-protects the whole slot at once.
/// </summary>
public sealed class KvmDirtyLogTracker : IDirtyTracker
{
    /// <summary>Default largest range one CLEAR covers, so a huge dirty slot is re-protected in bounded steps.</summary>
    public const int DefaultMaxClearWords = 4096; // 256 Ki pages = 1 GiB

    private readonly int maxClearWords;

    private readonly KvmVm vm;
    private readonly IReadOnlyList<MemorySlot> slots;
    private readonly ulong[][] slotBitmaps;
    private bool tracking;

    /// <param name="maxClearWords">
    /// Largest range one <c>KVM_CLEAR_DIRTY_LOG</c> covers, in bitmap words of 64 pages (tests use small values to
    /// cross chunk boundaries in small guests).
    /// </param>
    public KvmDirtyLogTracker(KvmVm vm, IReadOnlyList<MemorySlot> slots, bool manualProtect, int maxClearWords = DefaultMaxClearWords)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClearWords, 1);
        foreach (var s in slots)
        {
            if ((s.FirstPage.Value & 63) != 0)
                throw new ArgumentException($"memory slot {s.Slot} must start on a 64-page boundary for dirty logging", nameof(slots));
        }
        this.vm = vm;
        this.slots = slots;
        ManualProtect = manualProtect;
        this.maxClearWords = maxClearWords;
        slotBitmaps = slots.Select(s => new ulong[(s.PageCount + 63) / 64]).ToArray();
    }

    public string Name => ManualProtect ? "dirty-log (manual protect)" : "dirty-log";
    public bool ManualProtect { get; }
    public bool ReportsPerVcpu => false;
    public bool IsTracking => tracking;

    public void Start()
    {
        if (tracking) return;
        SetLogging(true);
        tracking = true;
        if (ManualProtect)
        {
            // INITIALLY_SET: every page reads dirty and nothing is write-protected yet. Fetch and clear once so that
            // protection is armed and the first real sync reports only pages written from now on.
            for (int i = 0; i < slots.Count; i++) Fetch(i, rearm: true);
        }
    }

    public DirtySyncResult Sync(DirtyBitmap target) => Collect(target, rearm: true);

    /// <summary>Without re-arming (see <see cref="IDirtyTracker.SyncLast"/>): tracking stops next.</summary>
    public DirtySyncResult SyncLast(DirtyBitmap target) => Collect(target, rearm: false);

    private DirtySyncResult Collect(DirtyBitmap target, bool rearm)
    {
        if (!tracking) throw new InvalidOperationException("dirty tracking is not started");
        var started = Stopwatch.GetTimestamp();
        long dirty = 0;
        var targetWords = target.Words;
        for (int i = 0; i < slots.Count; i++)
        {
            var bitmap = Fetch(i, rearm);
            int baseWord = (int)(slots[i].FirstPage.Value >> 6);
            for (int w = 0; w < bitmap.Length; w++)
            {
                ulong bits = bitmap[w];
                if (bits == 0) continue;
                dirty += System.Numerics.BitOperations.PopCount(bits);
                targetWords[baseWord + w] |= bits;
            }
        }
        return new DirtySyncResult(dirty, null, Stopwatch.GetElapsedTime(started));
    }

    private ulong[] Fetch(int slotIndex, bool rearm)
    {
        var slot = slots[slotIndex];
        var bitmap = slotBitmaps[slotIndex];
        vm.GetDirtyLog(slot.Slot, bitmap);
        if (ManualProtect && rearm) ClearRuns(slot, bitmap);
        return bitmap;
    }

    /// <summary>Re-arms write protection only for runs of words that hold dirty bits.</summary>
    private void ClearRuns(MemorySlot slot, ulong[] bitmap)
    {
        int w = 0;
        while (w < bitmap.Length)
        {
            if (bitmap[w] == 0) { w++; continue; }
            int start = w;
            while (w < bitmap.Length && bitmap[w] != 0 && w - start < maxClearWords) w++;
            ulong firstPage = (ulong)start * 64;
            ulong pages = Math.Min((ulong)(w - start) * 64, slot.PageCount - firstPage);
            vm.ClearDirtyLog(slot.Slot, firstPage, (uint)pages, bitmap.AsSpan(start, w - start));
        }
    }

    public void Stop()
    {
        if (!tracking) return;
        SetLogging(false);
        tracking = false;
    }

    private void SetLogging(bool on)
    {
        foreach (var s in slots) vm.SetUserMemoryRegion(s.Slot, s.GuestStart.Value, s.Size, s.HostAddress, logDirtyPages: on);
    }

    public void Dispose()
    {
        // The VM may already be gone when the machine is torn down; nothing to undo then.
        tracking = false;
    }
}
