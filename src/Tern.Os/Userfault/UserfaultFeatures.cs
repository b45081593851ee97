namespace Tern.Os.Userfault;

/// <summary>The UFFD_FEATURE_* bits of linux/userfaultfd.h that Tern may need (values layout-tested).</summary>
[Flags]
public enum UserfaultFeatures : ulong
{
    None = 0,

    /// <summary>UFFD_FEATURE_MISSING_HUGETLBFS: MISSING mode on hugetlbfs memory (guest RAM with --huge-pages).</summary>
    MissingHugetlbfs = 1UL << 4,

    /// <summary>UFFD_FEATURE_MISSING_SHMEM: MISSING mode on shared memory, which a memfd is (guest RAM).</summary>
    MissingShmem = 1UL << 5,

    /// <summary>UFFD_FEATURE_THREAD_ID: fault messages carry the faulting thread's id (which vCPU waits).</summary>
    ThreadId = 1UL << 8,
    /// <summary>
    /// UFFD_FEATURE_MINOR_SHMEM: MINOR mode on shared memory: an access to a page that is in the file but not mapped
    /// faults, so new data can be written into a stale page through the file and then mapped (UFFDIO_CONTINUE).
    /// </summary>
    MinorShmem = 1UL << 10,
}

internal static class UserfaultFeatureNames
{
    /// <summary>The header's names of the bits set in <paramref name="features"/>, for error messages.</summary>
    public static string Describe(UserfaultFeatures features)
    {
        var names = new List<string>();
        if (features.HasFlag(UserfaultFeatures.MissingHugetlbfs)) names.Add("UFFD_FEATURE_MISSING_HUGETLBFS (post-copy into huge pages)");
        if (features.HasFlag(UserfaultFeatures.MissingShmem)) names.Add("UFFD_FEATURE_MISSING_SHMEM (post-copy into memfd guest RAM)");
        if (features.HasFlag(UserfaultFeatures.ThreadId)) names.Add("UFFD_FEATURE_THREAD_ID");
        if (features.HasFlag(UserfaultFeatures.MinorShmem)) names.Add("UFFD_FEATURE_MINOR_SHMEM (stale pages overwritten in place)");
        var unknown = features & ~(UserfaultFeatures.MissingHugetlbfs | UserfaultFeatures.MissingShmem | UserfaultFeatures.ThreadId | UserfaultFeatures.MinorShmem);
        if (unknown != 0) names.Add($"feature bits 0x{(ulong)unknown:x}");
        return string.Join(", ", names);
    }
}
