using Iced.Intel;
using Tern.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace Tern.Guest.Codegen;

/// <summary>
/// Assembles the guest's code with Iced for one layout. The code is position-dependent (it is generated for the
/// addresses in <see cref="GuestLayout"/>) and shared by all vCPUs: each finds its own data through the
/// registers the entry contract gives it (rdi = vCPU index, rsi = control page, rdx = parameter block). There is one
/// entry and loop per distinct workload (kind and content) the vCPUs run; a vCPU starts at its workload's entry.
/// <para>Order in memory: the CPL3 part (common entry, serial banner, heartbeat, rate cap, page fill, then each
/// workload's entry stub and loop), then the CPL0 part (exception stubs, panic handler, idle timer, fill's rest timer
/// and rest entry, idle entry, the 64-bit half of the multiboot entry), then the 32-bit multiboot entry.</para>
/// </summary>
internal sealed partial class GuestCodeGenerator
{
    private readonly GuestLayout _layout;
    private readonly Assembler _a = new(64);

    private Label _userEntry, _idleEntry, _userEnd, _serialWrite, _heartbeatCheck, _tick, _fillMixed, _fillMixedLines;
    private Label _timer, _spurious, _boot64, _restSite, _restEntry, _restTimer;
    private bool _anyFill;
    private readonly Label[] _exceptions = new Label[32];

    private GuestCodeGenerator(GuestLayout layout) => _layout = layout;

    public static GuestCode Generate(GuestLayout layout) => new GuestCodeGenerator(layout).Run();

    private GuestCode Run()
    {
        var workloads = _layout.Vcpus.Select(v => WorkloadKey.Of(v.Workload)).Distinct().ToList();
        var userWorkloads = workloads.Where(k => k.Kind != WorkloadKind.Idle).ToList();
        bool anyIdle = workloads.Count > userWorkloads.Count;
        ulong codeBase = _layout.Code.Value;
        _serialWrite = _a.CreateLabel("serial_write");
        _heartbeatCheck = _a.CreateLabel("heartbeat_check");
        _tick = _a.CreateLabel("tick");
        _fillMixed = _a.CreateLabel("fill_mixed");
        _fillMixedLines = _a.CreateLabel("fill_mixed_lines");
        _userEntry = _a.CreateLabel("user_entry");
        _idleEntry = _a.CreateLabel("idle_entry");
        _userEnd = _a.CreateLabel("user_end");
        _timer = _a.CreateLabel("timer");
        _spurious = _a.CreateLabel("spurious");
        _boot64 = _a.CreateLabel("boot64");
        _restSite = _a.CreateLabel("rest_site");
        _restEntry = _a.CreateLabel("rest_entry");
        _restTimer = _a.CreateLabel("rest_timer");
        bool anyFill = _anyFill = workloads.Any(k => k.Kind == WorkloadKind.Fill);

        // CPL3 part. serial_write comes first: idle calls it from CPL0 too.
        EmitSerialWrite();
        var entries = new Dictionary<WorkloadKey, Label>();
        if (userWorkloads.Count > 0)
        {
            EmitUserEntry();
            EmitHeartbeatCheck();
            EmitTick();
            if (userWorkloads.Any(k => k.Content == PageContent.Mixed)) EmitFillMixed();
            if (anyFill) EmitRestSite();
            foreach (var key in userWorkloads) entries[key] = EmitWorkload(key);
        }
        _a.Label(ref _userEnd);
        _a.int3();

        // CPL0 part.
        EmitExceptionHandlers();
        EmitTimerHandlers();
        if (anyFill)
        {
            EmitRestTimerHandler();
            EmitRestEntry();
        }
        if (anyIdle)
        {
            EmitIdleEntry();
            entries[WorkloadKey.Of(WorkloadSpec.Idle())] = _idleEntry;
        }
        var vcpu0 = WorkloadKey.Of(_layout.Vcpus[0].Workload);
        EmitBoot64(vcpu0.Kind == WorkloadKind.Idle, entries[vcpu0]);

        var writer = new ByteCodeWriter();
        var result = _a.Assemble(writer, codeBase, BlockEncoderOptions.ReturnNewInstructionOffsets);
        GuestAddress At(Label l) => new(result.GetLabelRIP(l));

        byte[] code64 = writer.ToArray();
        ulong code32Base = (codeBase + (ulong)code64.Length + 15) & ~15UL;
        byte[] code32 = Boot32Generator.Assemble(_layout, code32Base, At(_boot64));

        ulong total = code32Base - codeBase + (ulong)code32.Length;
        if (total > GuestLayout.CodeCapacity)
            throw new InvalidOperationException($"generated guest code is {total} bytes, more than the {GuestLayout.CodeCapacity} reserved for it");
        var bytes = new byte[total];
        code64.CopyTo(bytes, 0);
        bytes.AsSpan(code64.Length..(int)(code32Base - codeBase)).Fill(0xCC); // int3 padding
        code32.CopyTo(bytes, (int)(code32Base - codeBase));

        return new GuestCode
        {
            Base = new GuestAddress(codeBase),
            Bytes = bytes,
            Entries = entries.ToDictionary(e => e.Key, e => At(e.Value)),
            Entry = At(entries[vcpu0]),
            UserCodeStart = At(_serialWrite),
            UserCodeEnd = At(_userEnd),
            LoopStart = userWorkloads.Count == 0 ? At(_userEnd) : At(_heartbeatCheck),
            LoopEnd = At(_userEnd),
            ExceptionHandlers = _exceptions.Select(At).ToArray(),
            TimerHandler = At(_timer),
            SpuriousHandler = At(_spurious),
            RestSite = anyFill ? At(_restSite) : null,
            RestTimerHandler = anyFill ? At(_restTimer) : null,
            Boot64 = At(_boot64),
            Boot32 = new GuestAddress(code32Base),
        };
    }

    /// <summary>
    /// Writes rcx bytes at [rsi] to COM1, polling the line status register before each byte. The poll gives up
    /// after <see cref="SerialPollLimit"/> reads so a machine without a UART only delays the banner.
    /// Clobbers rax, rcx, rdx, rsi, r8. Runs at CPL3 (the TSS I/O bitmap grants the COM1 ports) and at CPL0.
    /// </summary>
    private void EmitSerialWrite()
    {
        var next = _a.CreateLabel();
        var poll = _a.CreateLabel();
        var ready = _a.CreateLabel();
        var done = _a.CreateLabel();
        _a.Label(ref _serialWrite);
        _a.test(rcx, rcx);
        _a.jz(done);
        _a.Label(ref next);
        _a.mov(r8d, SerialPollLimit);
        _a.Label(ref poll);
        _a.mov(edx, (uint)GuestPorts.SerialLineStatus);
        _a.@in(al, dx);
        _a.test(al, GuestPorts.LineStatusTransmitEmpty);
        _a.jnz(ready);
        _a.dec(r8d);
        _a.jnz(poll);
        _a.Label(ref ready);
        _a.mov(edx, (uint)GuestPorts.SerialData);
        _a.mov(al, __byte_ptr[rsi]);
        _a.@out(dx, al);
        _a.inc(rsi);
        _a.dec(rcx);
        _a.jnz(next);
        _a.Label(ref done);
        _a.ret();
    }

    private const int SerialPollLimit = 100;
}
