using Tern.Machine.Devices;
using Tern.Machine.State;

namespace Tern.Machine.Tests.Devices;

/// <summary>The serial port's state is a fixed point of save -> restore -> save, whatever state it is in.</summary>
public sealed class Serial16550StateTests
{
    private static readonly string[] StateNames = ["fresh", "configured", "divisor latch open", "input queued", "input overflowed"];

    public static TheoryData<string> States => new(StateNames);

    [Theory]
    [MemberData(nameof(States))]
    public void Save_restore_save_gives_the_same_bytes(string state)
    {
        var serial = Prepared(state);
        byte[] saved = Save(serial);

        // Restore into a port that has state of its own, which the restore must replace entirely.
        var copy = Prepared("input overflowed");
        copy.Write(7, 0xEE);
        copy.RestoreState(new StateReader(copy.StateId, saved), serial.StateVersion);
        Assert.Equal(saved, Save(copy));

        // And through the machine-state encoding (header, CRC, sections).
        var viaSnapshot = new Serial16550("serial0", null);
        StateSnapshot.Decode(StateSnapshot.Capture([serial]).Encode()).Apply([viaSnapshot]);
        Assert.Equal(saved, Save(viaSnapshot));
    }

    [Fact]
    public void Different_states_save_differently()
    {
        // Guards the fixed-point test against a SaveState that writes nothing that depends on the state.
        var encodings = StateNames.Select(s => Convert.ToHexString(Save(Prepared(s)))).ToList();
        Assert.Equal(encodings.Count, encodings.Distinct().Count());
    }

    [Fact]
    public void A_version_this_tern_does_not_know_is_refused_by_name()
    {
        var serial = new Serial16550("serial0", null);
        var e = Assert.Throws<StateFormatException>(() => serial.RestoreState(new StateReader("serial0", Save(serial)), 2));
        Assert.Contains("serial0", e.Message);
        Assert.Contains("version 2", e.Message);
    }

    private static Serial16550 Prepared(string state)
    {
        var serial = new Serial16550("serial0", null);
        switch (state)
        {
            case "fresh":
                break;
            case "configured":
                serial.Write(3, 0x03); // 8N1
                serial.Write(1, 0x05); // IER
                serial.Write(2, 0x01); // FIFO on
                serial.Write(4, 0x0B); // DTR, RTS, OUT2
                serial.Write(7, 0x5A); // scratch
                break;
            case "divisor latch open":
                serial.Write(3, 0x83);
                serial.Write(0, 0x01);
                serial.Write(1, 0x02);
                break;
            case "input queued":
                serial.Inject("hello, guest"u8);
                serial.Read(0); // one byte already consumed
                break;
            case "input overflowed":
                serial.Inject(Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray());
                break;
        }
        return serial;
    }

    private static byte[] Save(Serial16550 serial)
    {
        var writer = new StateWriter();
        serial.SaveState(writer);
        return writer.ToArray();
    }
}
