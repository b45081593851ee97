using System.Text.Json.Nodes;
using Tern.Control.Qmp;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Cli.Tests.EndToEnd;

/// <summary>
/// A `tern run --incoming` process through many failed attempts: it survives each one, says what happened, and takes
/// the next. Real processes, real sockets.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class DestinationLifetimeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("tern-e2e-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>
    /// The main connection fails (a frame of unknown type, or the source's Error, which is what migrate_cancel sends)
    /// while two page channels are busy decompressing zstd pages into guest RAM. The destination must stop those
    /// channels before it frees the RAM: it once freed it first and died of SIGSEGV.
    /// </summary>
    [Fact]
    public async Task A_KVM_destination_survives_its_main_connection_failing_while_channels_apply_compressed_pages()
    {
        Assert.SkipUnless(File.Exists("/dev/kvm"), "needs /dev/kvm");
        const ulong memory = 256 << 20;
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--backend", "kvm", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var dst = await destination.ConnectAsync();
        var flood = CompressedPagesFrame(memory);

        for (int attempt = 0; attempt < 8; attempt++)
        {
            var hello = new HelloMessage(ProtocolConstants.MinVersion, ProtocolConstants.MaxVersion, ProtocolCapabilities.Supported,
                Guid.NewGuid(), 3, new Tern.Machine.MachineDescription(Tern.Machine.MachineDescription.KvmBackend, memory, 1, "idle"));
            using var main = new RawPeer(port, TimeSpan.FromSeconds(30));
            main.Handshake(hello);
            using var one = new RawPeer(port, TimeSpan.FromSeconds(30));
            using var two = new RawPeer(port, TimeSpan.FromSeconds(30));
            one.Send(MessageType.ChannelHello, new ChannelHelloMessage(hello.Session, 1).Write);
            two.Send(MessageType.ChannelHello, new ChannelHelloMessage(hello.Session, 2).Write);
            main.Send(MessageType.PassBegin, new PassBeginMessage(1, 3, false).Write);
            var writers = new[] { one, two }.Select(c => StartFlood(c, flood)).ToList();
            await Task.Delay(300, Ct); // both channels are deep in their pages now

            if (attempt % 2 == 0) main.Stream.Write(RawFrameHeader.Build(99));
            else main.Send(MessageType.Error, new ErrorMessage(ErrorMessage.Cancelled, "cancelled by the operator").Write);

            await destination.WaitForLinesAsync(StillWaiting, attempt + 1, TimeSpan.FromSeconds(30));
            Assert.False(destination.Process.HasExited, $"the destination died at attempt {attempt}:\n{destination.Output}");
            var info = await TernProcess.WaitForMigrationAsync(dst, TimeSpan.FromSeconds(30));
            string why = info.GetProperty("error-desc").GetString()!;
            Assert.True(why.Contains(attempt % 2 == 0 ? "unknown message type 99" : "the source cancelled") && why.Contains("waiting for another attempt"),
                $"attempt {attempt}: {why}\n{destination.Output}");
            Assert.Equal("inmigrate", await TernProcess.StatusAsync(dst));
            foreach (var w in writers) Assert.True(w.Join(TimeSpan.FromSeconds(30)), "a channel was not closed");
        }
    }

    /// <summary>Writes <paramref name="frame"/> to a channel again and again until the destination closes it.</summary>
    private static Thread StartFlood(RawPeer channel, byte[] frame)
    {
        var t = new Thread(() =>
        {
            try
            {
                while (true) channel.Stream.Write(frame);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // closed by the destination
            }
        }) { IsBackground = true, Name = "flood" };
        t.Start();
        return t;
    }

    /// <summary>
    /// One Pages frame of pass 1 (header included): about 2 MiB of zstd records, each a page that decompresses to 4 KiB,
    /// spread over guest RAM. Applying it keeps a channel busy far longer than reading it.
    /// </summary>
    private static byte[] CompressedPagesFrame(ulong memory)
    {
        using var codec = Tern.Migration.Compression.PageCodecFactory.Create("zstd", 1);
        var page = new byte[4096];
        for (int i = 0; i < page.Length; i++) page[i] = (byte)(i % 61);
        var compressed = new byte[4096];
        int length = codec.Compress(page, compressed).Length;
        Assert.True(length is > 0 and < 200, $"the test page compresses to {length} bytes");
        const int records = 60_000;
        ulong pages = memory / 4096;
        var payload = new PayloadWriter();
        payload.U32(1);
        payload.U32(records);
        for (int r = 0; r < records; r++)
        {
            payload.U64(PageRecord.Header((ulong)r * 7919 % pages, PageRecordKind.Zstd));
            payload.U16((ushort)length);
            payload.Bytes(compressed.AsSpan(0, length));
        }
        var header = new byte[Frame.HeaderSize];
        Frame.WriteHeader(header, MessageType.Pages, payload.WrittenSpan);
        return [.. header, .. payload.WrittenSpan];
    }

    /// <summary>
    /// Sessions torn down (a bad frame on the main connection) while their page channels are being accepted, again
    /// and again. Afterwards the destination still takes a real migration, and quits cleanly. It once recorded a
    /// channel thread before starting it and joined it during teardown: the exception ended its incoming loop, so
    /// the port still accepted TCP, QMP still said inmigrate, and every later source timed out.
    /// </summary>
    [Fact]
    public async Task A_destination_torn_down_while_accepting_channels_still_takes_the_next_migration()
    {
        int port = TernProcess.FreePort();
        await using var destination = TernProcess.Run(dir, "dst", "--backend", "sim", "--incoming", $"tcp:127.0.0.1:{port}", "--serial", "none");
        await using var dst = await destination.ConnectAsync();

        for (int attempt = 0; attempt < 40; attempt++)
        {
            var hello = RawPeer.Hello() with { Channels = 8 };
            using var main = new RawPeer(port, TimeSpan.FromSeconds(15));
            try
            {
                main.Handshake(hello);
            }
            catch (IOException e)
            {
                Assert.Fail($"attempt {attempt}: no Welcome ({e.Message})\n{destination.Output}");
            }
            var channels = new List<RawPeer>();
            try
            {
                for (int c = 1; c < 8; c++)
                {
                    var channel = new RawPeer(port, TimeSpan.FromSeconds(15));
                    channels.Add(channel);
                    channel.Send(MessageType.ChannelHello, new ChannelHelloMessage(hello.Session, c).Write);
                    if (c == 1 + attempt % 6) main.Stream.Write(RawFrameHeader.Build(99)); // tear it down now
                }
                Assert.Contains("unknown message type 99", main.ReadError());
            }
            finally
            {
                foreach (var c in channels) c.Dispose();
            }
            // Settled, and ready for the next attempt.
            await destination.WaitForLinesAsync(StillWaiting, attempt + 1, TimeSpan.FromSeconds(30));
        }

        await using var source = TernProcess.Run(dir, "src", "--backend", "sim", "--memory", "64M", "--workload", "random:ws=8M,rate=16");
        await using var src = await source.ConnectAsync();
        await src.ExecuteAsync("migrate-set-capabilities", new JsonObject
        {
            ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "multifd", ["state"] = true }),
        }, Ct);
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{port}" }, Ct);
        var info = await TernProcess.WaitForMigrationAsync(src, TimeSpan.FromSeconds(60));
        Assert.True(info.GetProperty("status").GetString() == "completed", $"{info}\n--- destination:\n{destination.Output}");
        Assert.Equal("running", await TernProcess.StatusAsync(dst));

        await dst.ExecuteAsync("quit", cancel: Ct);
        Assert.Equal(0, await destination.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain("Unhandled exception", destination.Output);
    }

    private static readonly System.Text.RegularExpressions.Regex StillWaiting = new("still waiting for an incoming migration");
}
