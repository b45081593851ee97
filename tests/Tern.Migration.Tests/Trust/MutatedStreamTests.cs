using System.Buffers.Binary;
using System.Net.Sockets;
using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Engine;
using Tern.Migration.Tests.Support;
using Tern.Os;

namespace Tern.Migration.Tests.Trust;

/// <summary>
/// Streams the tests have not seen: a real migration's stream (XBZRLE, compression, verification, several passes) is
/// recorded, then mutated at random with valid checksums (bytes flipped, fields set to extremes, frames dropped,
/// repeated, swapped, retyped or invented, the stream cut short) and replayed to fresh destinations. Whatever the
/// mutation, the destination must end within its deadlines, never crash, and either reject the stream with a
/// readable reason or (for a harmless mutation) complete. The seed changes every run and is printed on a failure;
/// TERN_FUZZ_SEED replays one.
/// </summary>
public sealed class MutatedStreamTests
{
    /// <summary>Per run in the suite; TERN_FUZZ_COUNT asks for more when hunting.</summary>
    private static readonly int Mutations = int.TryParse(Environment.GetEnvironmentVariable("TERN_FUZZ_COUNT"), out var n) && n > 0 ? n : 150;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public void Mutated_recordings_of_a_real_migration_are_rejected_or_completed_never_crash_or_hang()
    {
        var frames = RecordRealMigration();
        Assert.True(frames.Count > 8, $"the recording has {frames.Count} frames");
        int seed = int.TryParse(Environment.GetEnvironmentVariable("TERN_FUZZ_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        var random = new Random(seed);
        int rejected = 0, completed = 0;
        for (int i = 0; i < Mutations; i++)
        {
            var (stream, what) = Mutate(frames, random);
            var outcome = Replay(stream);
            string context = $"seed {seed} (TERN_FUZZ_SEED={seed}), mutation {i}: {what}; destination {outcome.Status}: {outcome.Error}";
            Assert.True(outcome.Finished, $"the destination did not finish within {Deadline.TotalSeconds} s; {context}");
            if (outcome.Status == MigrationStatus.Completed) { completed++; continue; }
            Assert.True(outcome.Status == MigrationStatus.Failed, context);
            Assert.False(string.IsNullOrWhiteSpace(outcome.Error), context);
            Assert.False(outcome.Error!.Any(char.IsControl), $"control characters in the error; {context}");
            Assert.False(outcome.Error.Contains("One or more errors occurred") || outcome.Error.Contains("Exception"), $".NET's words in the error; {context}");
            rejected++;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {rejected} rejected, {completed} completed of {Mutations}");
        Assert.True(rejected > Mutations / 2, $"seed {seed}: only {rejected} of {Mutations} mutations were rejected");
    }

    private sealed record Outcome(bool Finished, MigrationStatus Status, string? Error);

    /// <summary>Sends the bytes to a fresh destination as its main connection, then closes the sending side.</summary>
    private static Outcome Replay(byte[] stream)
    {
        using var raw = new RawSource();
        var writing = Task.Run(() =>
        {
            try
            {
                raw.Stream.Write(stream);
                raw.Stream.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The destination rejected the stream and hung up: that is an answer.
            }
        });
        // A stream whose first frame is no Hello is not a migration: the destination refuses the connection, says so
        // in its log, and goes on waiting for a source (its migration never starts, so Run does not end).
        var deadline = DateTime.UtcNow + Deadline;
        string? refusal = null;
        while (!raw.Run.Wait(20) && DateTime.UtcNow < deadline)
        {
            refusal = raw.Log.FirstOrDefault(l => l.StartsWith("refused a connection", StringComparison.Ordinal)
                || (l.StartsWith("a connection from", StringComparison.Ordinal) && l.Contains("before it said Hello", StringComparison.Ordinal)));
            if (refusal is not null && raw.Destination.Status == MigrationStatus.None) break;
        }
        writing.Wait(TimeSpan.FromSeconds(5));
        var info = raw.Destination.Info();
        if (refusal is not null && info.Status == MigrationStatus.None) return new Outcome(true, MigrationStatus.Failed, refusal);
        return new Outcome(raw.Run.IsCompleted, info.Status, info.ErrorDesc);
    }

    private static List<(ushort Type, byte[] Payload)> RecordRealMigration()
    {
        using var m = LocalMigration.Sim("seq:ws=2M,rate=8", memoryBytes: 8 << 20, vcpus: 1);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 4 << 20 });
        m.Settings.SetCapability(MigrationCapability.Xbzrle, true);
        m.Settings.SetCapability(MigrationCapability.Compress, true);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Source.Resume();
        Thread.Sleep(300);
        using var recorder = new StreamRecorder(m.Uri);
        var (source, run) = m.Start(via: recorder.Uri);
        m.Finish(source, run);
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        return Parse(recorder.Recorded());
    }

    private static List<(ushort, byte[])> Parse(byte[] bytes)
    {
        var frames = new List<(ushort, byte[])>();
        int at = 0;
        while (at + Frame.HeaderSize <= bytes.Length)
        {
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            frames.Add((type, bytes.AsSpan(at + Frame.HeaderSize, length).ToArray()));
            at += Frame.HeaderSize + length;
        }
        return frames;
    }

    private static (byte[] Stream, string What) Mutate(List<(ushort Type, byte[] Payload)> original, Random random)
    {
        var frames = original.Select(f => (f.Type, Payload: (byte[])f.Payload.Clone())).ToList();
        int k = random.Next(frames.Count);
        string what;
        switch (random.Next(8))
        {
            case 0:
                int flips = random.Next(1, 9);
                for (int i = 0; i < flips && frames[k].Payload.Length > 0; i++) frames[k].Payload[random.Next(frames[k].Payload.Length)] ^= (byte)random.Next(1, 256);
                what = $"{flips} bytes flipped in frame {k} ({(MessageType)frames[k].Type})";
                break;
            case 1:
                if (frames[k].Payload.Length >= 4)
                {
                    int offset = random.Next(frames[k].Payload.Length / 4) * 4;
                    BinaryPrimitives.WriteUInt32LittleEndian(frames[k].Payload.AsSpan(offset), random.Next(2) == 0 ? uint.MaxValue : 0);
                }
                what = $"a u32 of frame {k} ({(MessageType)frames[k].Type}) set to an extreme";
                break;
            case 2:
                what = $"frame {k} ({(MessageType)frames[k].Type}) dropped";
                frames.RemoveAt(k);
                break;
            case 3:
                frames.Insert(k, frames[k]);
                what = $"frame {k} ({(MessageType)frames[k].Type}) repeated";
                break;
            case 4:
                int next = Math.Min(k + 1, frames.Count - 1);
                (frames[k], frames[next]) = (frames[next], frames[k]);
                what = $"frames {k} and {next} swapped";
                break;
            case 5:
                ushort type = (ushort)random.Next(0, 20);
                what = $"frame {k} ({(MessageType)frames[k].Type}) retyped as {type}";
                frames[k] = (type, frames[k].Payload);
                break;
            case 6:
                var junk = new byte[random.Next(0, 64)];
                random.NextBytes(junk);
                ushort junkType = (ushort)random.Next(1, 16);
                frames.Insert(k, (junkType, junk));
                what = $"a frame of type {junkType} with {junk.Length} random bytes inserted at {k}";
                break;
            default:
                what = "cut short";
                break;
        }
        var stream = new MemoryStream();
        foreach (var (type, payload) in frames)
        {
            stream.Write(RawFrameHeader.Build(type, 0, (uint)payload.Length, Crc32C.Compute(payload)));
            stream.Write(payload);
        }
        var bytes = stream.ToArray();
        if (what == "cut short")
        {
            int cut = random.Next(bytes.Length);
            what = $"cut short after {cut} of {bytes.Length} bytes";
            bytes = bytes[..cut];
        }
        return (bytes, what);
    }
}
