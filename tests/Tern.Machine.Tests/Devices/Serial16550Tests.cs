using Tern.Machine.Devices;
using Tern.Machine.State;

namespace Tern.Machine.Tests.Devices;

public sealed class Serial16550Tests
{
    [Fact]
    public void Transmitted_bytes_reach_the_host_and_the_line_is_always_ready()
    {
        var output = new MemoryStream();
        var serial = new Serial16550("serial0", output);
        Assert.Equal(0x60, serial.Read(5) & 0x60);
        foreach (var b in "ok\n"u8.ToArray()) serial.Write(0, b);
        Assert.Equal("ok\n"u8.ToArray(), output.ToArray());
    }

    [Fact]
    public void The_divisor_latch_is_separate_from_the_data_register()
    {
        var output = new MemoryStream();
        var serial = new Serial16550("serial0", output);
        serial.Write(3, 0x80); // DLAB on
        serial.Write(0, 0x01); // divisor low
        serial.Write(1, 0x00);
        serial.Write(3, 0x03); // 8N1, DLAB off
        Assert.Empty(output.ToArray());
        serial.Write(3, 0x83);
        Assert.Equal(0x01, serial.Read(0));
    }

    [Fact]
    public void Registers_and_unread_input_move_with_the_state()
    {
        var serial = new Serial16550("serial0", null);
        serial.Write(3, 0x03);
        serial.Write(7, 0x5A);
        serial.Inject("abc"u8);
        Assert.Equal((byte)'a', serial.Read(0));

        var encoded = StateSnapshot.Capture([serial]).Encode();
        var copy = new Serial16550("serial0", null);
        StateSnapshot.Decode(encoded).Apply([copy]);
        Assert.Equal(0x03, copy.Read(3));
        Assert.Equal(0x5A, copy.Read(7));
        Assert.Equal(1, copy.Read(5) & 1); // data ready
        Assert.Equal((byte)'b', copy.Read(0));
        Assert.Equal((byte)'c', copy.Read(0));
        Assert.Equal(0, copy.Read(5) & 1);
    }
}
