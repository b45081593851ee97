using Iced.Intel;
using Tern.Guest;
using Tern.Guest.Codegen;
using Xunit;

namespace Tern.Machine.Tests.Guest;

/// <summary>Disassembles the generated guest code with Iced's decoder.</summary>
public class GeneratedCodeTests
{
    public static TheoryData<string> MemoryWorkloads =>
    [
        "stride", "seq:ws=16M", "random:ws=16M", "hotcold:ws=16M,hot=2M", "seq:ws=16M,rate=10", "compute",
        "stride:ws=4M,content=mixed", "seq:ws=16M,content=mixed", "random:ws=16M,content=mixed", "hotcold:ws=16M,hot=2M,content=mixed",
        "seq:ws=8M;compute;random:ws=8M,content=mixed;idle",
    ];

    /// <summary>The code for a workload; a per-vCPU list gets one vCPU per entry.</summary>
    private static GuestCode Generate(string spec, int vcpus = 0)
    {
        var workload = GuestWorkload.Parse(spec);
        if (vcpus == 0) vcpus = workload.IsPerVcpu ? workload.Specs.Count : 1;
        return GuestCodeGenerator.Generate(GuestLayout.Compute(workload, 64UL << 20, vcpus));
    }

    private static List<Instruction> Decode(GuestCode code, ulong start, ulong end, int bitness)
    {
        var reader = new ByteArrayCodeReader(code.Bytes, (int)(start - code.Base.Value), (int)(end - start));
        var decoder = Decoder.Create(bitness, reader, start);
        var list = new List<Instruction>();
        while (decoder.IP < end)
        {
            decoder.Decode(out var instruction);
            Assert.False(instruction.IsInvalid, $"invalid instruction at 0x{instruction.IP:x}");
            list.Add(instruction);
        }
        Assert.Equal(end, decoder.IP);
        return list;
    }

    [Theory]
    [MemberData(nameof(MemoryWorkloads))]
    [InlineData("idle")]
    public void All_code_decodes_64_bit_part_then_32_bit_entry(string spec)
    {
        var code = Generate(spec);
        Assert.True(code.Bytes.Length <= (int)GuestLayout.CodeCapacity);
        var code64 = Decode(code, code.Base.Value, code.Boot32.Value, 64);
        Assert.Contains(code64, i => i.Mnemonic == Mnemonic.Iretq);
        var code32 = Decode(code, code.Boot32.Value, code.Base.Value + (ulong)code.Bytes.Length, 32);
        Assert.Equal(code.Boot32, new Tern.Memory.GuestAddress(code32[0].IP));
        var far = Assert.Single(code32, i => i.Code == Code.Jmp_ptr1632);
        Assert.Equal(0x08, far.FarBranchSelector);
        Assert.Equal(code.Boot64.Value, far.FarBranch32);
        Assert.Contains(code32, i => i.Mnemonic == Mnemonic.Lgdt);
        Assert.Contains(code32, i => i.Mnemonic == Mnemonic.Wrmsr);
    }

    [Theory]
    [MemberData(nameof(MemoryWorkloads))]
    public void Cpl3_code_has_no_privileged_instructions_and_only_in_and_out_for_io(string spec)
    {
        var code = Generate(spec);
        var user = Decode(code, code.UserCodeStart.Value, code.UserCodeEnd.Value, 64);
        Assert.True(user.Count > 20);
        foreach (var i in user)
        {
            // Iced counts the IOPL-sensitive in/out as privileged; the TSS I/O bitmap grants them their four ports.
            if (i.Mnemonic is not (Mnemonic.In or Mnemonic.Out))
                Assert.False(i.IsPrivileged, $"privileged {i} at 0x{i.IP:x} in CPL3 code");
            Assert.DoesNotContain(i.Mnemonic, (Mnemonic[])[Mnemonic.Cli, Mnemonic.Sti, Mnemonic.Hlt, Mnemonic.Popfq, Mnemonic.Popf, Mnemonic.Insb, Mnemonic.Outsb, Mnemonic.Int, Mnemonic.Int3]);
            // Branches stay inside the CPL3 code: it never runs kernel code.
            if (i.FlowControl is FlowControl.UnconditionalBranch or FlowControl.ConditionalBranch or FlowControl.Call && i.Op0Kind == OpKind.NearBranch64)
                Assert.InRange(i.NearBranch64, code.UserCodeStart.Value, code.UserCodeEnd.Value - 1);
        }
        Assert.Contains(user, i => i.Mnemonic == Mnemonic.Rdtsc);
        Assert.All(user.Where(i => i.Mnemonic is Mnemonic.In or Mnemonic.Out), i => Assert.Equal(Register.DX, i.Mnemonic == Mnemonic.In ? i.Op1Register : i.Op0Register));
    }

    [Theory]
    [MemberData(nameof(MemoryWorkloads))]
    public void The_write_loop_uses_out_for_the_heartbeat_and_no_other_io(string spec)
    {
        var code = Generate(spec);
        var loop = Decode(code, code.LoopStart.Value, code.LoopEnd.Value, 64);
        var io = loop.Where(i => i.Mnemonic is Mnemonic.In or Mnemonic.Out).ToList();
        var heartbeat = Assert.Single(io);
        Assert.Equal(Mnemonic.Out, heartbeat.Mnemonic);
        Assert.Equal(Register.DX, heartbeat.Op0Register);
        Assert.Equal(Register.AL, heartbeat.Op1Register);
        Assert.All(loop.Where(i => i.Mnemonic != Mnemonic.Out), i => Assert.False(i.IsPrivileged, $"privileged {i}"));
    }

    [Fact]
    public void Exception_stubs_push_a_zero_error_code_only_where_the_cpu_pushes_none()
    {
        var code = Generate("seq:ws=16M");
        for (int vector = 0; vector < 32; vector++)
        {
            ulong start = code.ExceptionHandlers[vector].Value;
            var decoder = Decoder.Create(64, new ByteArrayCodeReader(code.Bytes, (int)(start - code.Base.Value), 32), start);
            var first = decoder.Decode();
            var second = decoder.Decode();
            bool cpuPushes = GuestCodeGenerator.CpuPushesErrorCode(vector);
            var pushVector = cpuPushes ? first : second;
            if (!cpuPushes)
            {
                Assert.Equal(Mnemonic.Push, first.Mnemonic);
                Assert.Equal(0UL, first.GetImmediate(0));
            }
            Assert.Equal(Mnemonic.Push, pushVector.Mnemonic);
            Assert.Equal((ulong)vector, pushVector.GetImmediate(0));
        }
    }

    [Fact]
    public void Idle_code_programs_the_x2apic_timer_and_halts()
    {
        var code = Generate("idle");
        var all = Decode(code, code.Base.Value, code.Boot32.Value, 64);
        var fromEntry = all.SkipWhile(i => i.IP != code.Entry.Value).ToList();
        Assert.NotEmpty(fromEntry);
        Assert.Contains(fromEntry, i => i.Mnemonic == Mnemonic.Sti);
        Assert.Contains(fromEntry, i => i.Mnemonic == Mnemonic.Hlt);
        Assert.True(fromEntry.Count(i => i.Mnemonic == Mnemonic.Wrmsr) >= 7);
        Assert.Equal(code.UserCodeEnd, code.LoopStart); // no CPL3 loop
    }

    [Fact]
    public void The_code_is_the_same_for_every_vcpu_count()
    {
        // Each vCPU finds its data through its registers and control page, never through the code.
        Assert.Equal(Generate("random:ws=16M", 1).Bytes, Generate("random:ws=16M", 4).Bytes);
    }
}
