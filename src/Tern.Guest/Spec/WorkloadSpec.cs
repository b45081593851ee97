using System.Globalization;
using System.Text;
using Tern.Memory;

namespace Tern.Guest;

/// <summary>
/// What a built-in guest does, as an immutable, validated value. Written and read as a spec string:
/// <code>
///   spec    := kind [ ':' option { ',' option } ]
///   kind    := idle | compute | stride | seq | fill | random | hotcold
///   option  := ws=SIZE | hot=SIZE | p=PROBABILITY | rate=MIB_PER_SECOND | seed=INTEGER | content=sparse|mixed
/// </code>
/// Examples: <c>idle</c>, <c>stride</c>, <c>seq:ws=64M</c>, <c>random:ws=1G,rate=200</c>,
/// <c>hotcold:ws=1G,hot=64M,p=0.9,seed=7</c>, <c>seq:ws=256M,content=mixed</c>, <c>fill:ws=1022M</c>, <c>compute</c>.
/// <see cref="Parse"/> and <see cref="ToString"/> round-trip. A guest whose vCPUs run different workloads is a
/// <see cref="GuestWorkload"/>.
/// </summary>
public sealed record WorkloadSpec
{
    /// <summary>The seed used when none is given ("tern" in ASCII), so that runs are reproducible by default.</summary>
    public const ulong DefaultSeed = 0x7465726E;

    /// <summary>The hot-set probability of <c>hotcold</c> when <c>p=</c> is not given.</summary>
    public const double DefaultHotProbability = 0.9;

    /// <summary>The buffer of the XBZRLE thread's load generator.</summary>
    public const ulong DefaultStrideBytes = 16UL << 20;

    /// <summary>Bytes between two bytes that <c>stride</c> increments.</summary>
    public const int StrideStepBytes = 1024;

    public WorkloadKind Kind { get; }

    /// <summary>Bytes of guest RAM the workload writes to (0 for idle; 16 MiB for stride unless ws= says otherwise).</summary>
    public ulong WorkingSetBytes { get; }

    /// <summary>hotcold: the first <see cref="HotBytes"/> of the working set form the hot set. 0 for other workloads.</summary>
    public ulong HotBytes { get; }

    /// <summary>hotcold: probability that a write goes to the hot set. 0 for other workloads.</summary>
    public double HotProbability { get; }

    /// <summary>Cap on how fast the guest dirties memory, in MiB/s of distinct 4 KiB pages written; null = no cap.</summary>
    public double? RateMiBPerSecond { get; }

    /// <summary>Seed of the write-target PRNG (random, hotcold); accepted and ignored by the others.</summary>
    public ulong Seed { get; }

    /// <summary>What the memory workloads write into a page (<c>content=</c>); <see cref="PageContent.Sparse"/> for idle and compute.</summary>
    public PageContent Content { get; }

    private WorkloadSpec(WorkloadKind kind, ulong workingSet, ulong hot, double p, double? rate, ulong seed, PageContent content = PageContent.Sparse)
    {
        Content = content;
        Kind = kind;
        WorkingSetBytes = workingSet;
        HotBytes = hot;
        HotProbability = p;
        RateMiBPerSecond = rate;
        Seed = seed;
        Validate();
    }

    public static WorkloadSpec Idle() => new(WorkloadKind.Idle, 0, 0, 0, null, DefaultSeed);

    public static WorkloadSpec Compute() => new(WorkloadKind.Compute, 0, 0, 0, null, DefaultSeed);

    public static WorkloadSpec Stride(ulong bufferBytes = DefaultStrideBytes) =>
        new(WorkloadKind.Stride, bufferBytes, 0, 0, null, DefaultSeed);

    public static WorkloadSpec Seq(ulong workingSetBytes) => new(WorkloadKind.Seq, workingSetBytes, 0, 0, null, DefaultSeed);

    /// <summary>One pass of <see cref="Seq"/> over the working set, then rest: RAM full and no longer changing.</summary>
    public static WorkloadSpec Fill(ulong workingSetBytes) => new(WorkloadKind.Fill, workingSetBytes, 0, 0, null, DefaultSeed);

    public static WorkloadSpec Random(ulong workingSetBytes) => new(WorkloadKind.Random, workingSetBytes, 0, 0, null, DefaultSeed);

    public static WorkloadSpec HotCold(ulong workingSetBytes, ulong hotBytes, double hotProbability = DefaultHotProbability) =>
        new(WorkloadKind.HotCold, workingSetBytes, hotBytes, hotProbability, null, DefaultSeed);

    /// <summary>The same workload with a dirty-rate cap in MiB/s (null removes the cap).</summary>
    public WorkloadSpec WithRate(double? mibPerSecond) =>
        new(Kind, WorkingSetBytes, HotBytes, HotProbability, mibPerSecond, Seed, Content);

    public WorkloadSpec WithSeed(ulong seed) => new(Kind, WorkingSetBytes, HotBytes, HotProbability, RateMiBPerSecond, seed, Content);

    /// <summary>The same workload writing <paramref name="content"/> into its pages (stride, seq, random, hotcold).</summary>
    public WorkloadSpec WithContent(PageContent content) => new(Kind, WorkingSetBytes, HotBytes, HotProbability, RateMiBPerSecond, Seed, content);

    /// <summary>The lower-case name used in spec strings.</summary>
    public string Name => NameOf(Kind);

    /// <summary>True for the workloads that write guest memory beyond their control page (all but idle and compute).</summary>
    public bool WritesMemory => Kind is not (WorkloadKind.Idle or WorkloadKind.Compute);

    /// <summary>True for the workloads whose writes go to (page, slot) targets: seq, fill, random, hotcold.</summary>
    internal bool WritesSlots => Kind is WorkloadKind.Seq or WorkloadKind.Fill or WorkloadKind.Random or WorkloadKind.HotCold;

    /// <summary>
    /// The most writes a vCPU with a slice of <paramref name="slicePages"/> pages ever does: one per page for fill
    /// (its counter stops there), unbounded for the others.
    /// </summary>
    public ulong WriteLimit(ulong slicePages) => Kind == WorkloadKind.Fill ? slicePages : ulong.MaxValue;

    /// <summary>Writes that land in one 4 KiB page before the next page is touched: 4 for stride, 1 for the others.</summary>
    public int WritesPerPage => Kind == WorkloadKind.Stride ? PageSize.Bytes / StrideStepBytes : 1;

    /// <summary>Parses a spec string; throws <see cref="FormatException"/> naming the bad part.</summary>
    public static WorkloadSpec Parse(string text) => WorkloadSpecParser.Parse(text);

    public static bool TryParse(string? text, out WorkloadSpec? spec, out string? error)
    {
        try
        {
            spec = WorkloadSpecParser.Parse(text ?? "");
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            spec = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>The canonical spec string; <see cref="Parse"/> gives back an equal spec.</summary>
    public override string ToString()
    {
        var options = new List<string>();
        bool strideDefault = Kind == WorkloadKind.Stride && WorkingSetBytes == DefaultStrideBytes;
        if (WritesMemory && !strideDefault) options.Add("ws=" + SizeText.Format(WorkingSetBytes));
        if (Kind == WorkloadKind.HotCold)
        {
            options.Add("hot=" + SizeText.Format(HotBytes));
            options.Add("p=" + HotProbability.ToString("R", CultureInfo.InvariantCulture));
        }
        if (RateMiBPerSecond is { } rate) options.Add("rate=" + rate.ToString("R", CultureInfo.InvariantCulture));
        if (Seed != DefaultSeed) options.Add("seed=" + Seed.ToString(CultureInfo.InvariantCulture));
        if (Content != PageContent.Sparse) options.Add("content=" + ContentName(Content));
        var sb = new StringBuilder(Name);
        if (options.Count > 0) sb.Append(':').AppendJoin(',', options);
        return sb.ToString();
    }

    internal static string NameOf(WorkloadKind kind) => kind switch
    {
        WorkloadKind.Idle => "idle",
        WorkloadKind.Stride => "stride",
        WorkloadKind.Seq => "seq",
        WorkloadKind.Fill => "fill",
        WorkloadKind.Random => "random",
        WorkloadKind.HotCold => "hotcold",
        WorkloadKind.Compute => "compute",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown workload kind"),
    };

    private void Validate()
    {
        string name = NameOf(Kind);
        if (!WritesMemory)
        {
            if (WorkingSetBytes != 0) throw new FormatException($"{name} writes no memory and takes no ws=");
            if (Kind == WorkloadKind.Compute && RateMiBPerSecond is not null)
                throw new FormatException("compute writes no memory, so rate= (a cap on MiB/s written) means nothing for it");
        }
        else
        {
            if (WorkingSetBytes == 0) throw new FormatException($"{name}: ws= must be at least one 4 KiB page");
            if (WorkingSetBytes % PageSize.Bytes != 0)
                throw new FormatException($"{name}: ws={WorkingSetBytes} is not a multiple of 4 KiB (the page size); try ws={SizeText.Format(RoundUpToPage(WorkingSetBytes))}");
        }
        if (Kind == WorkloadKind.HotCold)
        {
            if (!(HotProbability >= 0 && HotProbability <= 1))
                throw new FormatException($"hotcold: p={HotProbability.ToString(CultureInfo.InvariantCulture)} is not a probability between 0 and 1");
            if (HotBytes % PageSize.Bytes != 0)
                throw new FormatException($"hotcold: hot={HotBytes} is not a multiple of 4 KiB (the page size)");
            if (HotBytes > WorkingSetBytes)
                throw new FormatException($"hotcold: the hot set (hot={SizeText.Format(HotBytes)}) is larger than the working set (ws={SizeText.Format(WorkingSetBytes)})");
            if (HotBytes == 0 && HotProbability > 0)
                throw new FormatException("hotcold: hot=0 leaves no hot set for the p of writes that go there; give hot= a size or use p=0");
            if (HotBytes == WorkingSetBytes && HotProbability < 1)
                throw new FormatException("hotcold: the hot set is the whole working set, leaving no cold set; make hot= smaller than ws= or use p=1");
        }
        else if (HotBytes != 0 || HotProbability != 0)
        {
            throw new FormatException($"{name} takes no hot= or p= (only hotcold does)");
        }
        if (Content != PageContent.Sparse && !WritesMemory)
            throw new FormatException($"{name} takes no content= (it writes no memory)");
        if (RateMiBPerSecond is { } rate && !(rate > 0 && double.IsFinite(rate)))
            throw new FormatException($"{name}: rate={rate.ToString(CultureInfo.InvariantCulture)} must be a positive number of MiB/s; leave rate= out for no cap");
    }

    internal static string ContentName(PageContent content) => content switch
    {
        PageContent.Sparse => "sparse",
        PageContent.Mixed => "mixed",
        _ => throw new ArgumentOutOfRangeException(nameof(content), content, "unknown page content"),
    };

    private static ulong RoundUpToPage(ulong bytes) => (bytes + PageSize.OffsetMask) & ~PageSize.OffsetMask;
}
