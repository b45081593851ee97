using Tern.Machine.State;

namespace Tern.Machine.Devices;

/// <summary>
/// A 16550A UART at 0x3F8 (COM1), enough for a guest that polls: transmitted bytes go to a host stream, received
/// bytes come from <see cref="Inject"/>. It raises no interrupts (Tern's guests poll the line status register).
/// Its registers and unread input move with the machine.
/// </summary>
public sealed class Serial16550 : IPortDevice, IStateComponent
{
    public const ushort Com1 = 0x3F8;

    // Register offsets and bits (16550 data sheet).
    private const int RbrThrDll = 0, IerDlm = 1, IirFcr = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scr = 7;
    private const byte LcrDlab = 0x80;
    private const byte LsrDataReady = 0x01, LsrThrEmpty = 0x20, LsrTransmitterEmpty = 0x40;
    private const byte IirNoInterrupt = 0x01, IirFifoEnabled = 0xC0;
    private const int MaxInput = 4096;

    private readonly object gate = new();
    private readonly Stream? output;
    private readonly Queue<byte> input = new();
    private byte ier, lcr, mcr, scr, fcr, dll = 0x0C, dlm;
    private long transmitted;

    public Serial16550(string stateId, Stream? output, ushort basePort = Com1)
    {
        StateId = stateId;
        this.output = output;
        BasePort = basePort;
    }

    public ushort BasePort { get; }
    public int PortCount => 8;
    public string StateId { get; }
    public ushort StateVersion => 1;

    /// <summary>Bytes the guest has written since the machine started.</summary>
    public long TransmittedBytes => Interlocked.Read(ref transmitted);

    /// <summary>Queues bytes for the guest to read (bounded; the oldest are dropped if the guest does not read).</summary>
    public void Inject(ReadOnlySpan<byte> bytes)
    {
        lock (gate)
        {
            foreach (var b in bytes)
            {
                if (input.Count == MaxInput) input.Dequeue();
                input.Enqueue(b);
            }
        }
    }

    public byte Read(int offset)
    {
        lock (gate)
        {
            bool dlab = (lcr & LcrDlab) != 0;
            return offset switch
            {
                RbrThrDll => dlab ? dll : (input.Count > 0 ? input.Dequeue() : (byte)0),
                IerDlm => dlab ? dlm : ier,
                IirFcr => (byte)(IirNoInterrupt | ((fcr & 1) != 0 ? IirFifoEnabled : 0)),
                Lcr => lcr,
                Mcr => mcr,
                Lsr => (byte)(LsrThrEmpty | LsrTransmitterEmpty | (input.Count > 0 ? LsrDataReady : 0)),
                Msr => 0xB0, // CTS, DSR, DCD asserted: a cable is attached
                Scr => scr,
                _ => 0xFF,
            };
        }
    }

    public void Write(int offset, byte value)
    {
        lock (gate)
        {
            bool dlab = (lcr & LcrDlab) != 0;
            switch (offset)
            {
                case RbrThrDll when dlab: dll = value; break;
                case RbrThrDll:
                    transmitted++;
                    output?.WriteByte(value);
                    if (value == (byte)'\n') output?.Flush();
                    break;
                case IerDlm when dlab: dlm = value; break;
                case IerDlm: ier = (byte)(value & 0x0F); break;
                case IirFcr: fcr = value; if ((value & 2) != 0) input.Clear(); break;
                case Lcr: lcr = value; break;
                case Mcr: mcr = (byte)(value & 0x1F); break;
                case Scr: scr = value; break;
            }
        }
    }

    public void SaveState(StateWriter writer)
    {
        lock (gate)
        {
            writer.WriteByte(ier); writer.WriteByte(lcr); writer.WriteByte(mcr); writer.WriteByte(scr);
            writer.WriteByte(fcr); writer.WriteByte(dll); writer.WriteByte(dlm);
            writer.WriteBytes(input.ToArray());
        }
    }

    public void RestoreState(StateReader reader, ushort version)
    {
        if (version != 1) throw new StateFormatException(StateId, $"serial state version {version} is not supported (this Tern reads 1)");
        lock (gate)
        {
            ier = reader.ReadByte(); lcr = reader.ReadByte(); mcr = reader.ReadByte(); scr = reader.ReadByte();
            fcr = reader.ReadByte(); dll = reader.ReadByte(); dlm = reader.ReadByte();
            input.Clear();
            foreach (var b in reader.ReadBytes(MaxInput)) input.Enqueue(b);
        }
    }
}
