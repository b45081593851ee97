using System.Text;

namespace Tern.Cli.Display;

/// <summary>Where `tern run` sends the guest's serial output: the console (line by line, marked), a file, or nowhere.</summary>
internal static class SerialTarget
{
    public static Stream? Open(string target, TextWriter console) => target switch
    {
        "none" => null,
        "stdout" => new ConsoleLineStream(console),
        _ => new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.Read),
    };

    /// <summary>Collects bytes into lines and prints each as "guest: ...". Thread-safe (vCPUs write concurrently).</summary>
    private sealed class ConsoleLineStream(TextWriter console) : Stream
    {
        private readonly object gate = new();
        private readonly List<byte> line = [];

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (gate)
            {
                foreach (var b in buffer)
                {
                    if (b == '\n') Emit();
                    else if (b != '\r' && line.Count < 4096) line.Add(b);
                }
            }
        }

        public override void WriteByte(byte value) => Write([value]);

        private void Emit()
        {
            console.WriteLine($"guest: {Encoding.ASCII.GetString([.. line])}");
            line.Clear();
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
