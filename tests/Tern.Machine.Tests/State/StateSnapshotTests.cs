using Tern.Machine.State;

namespace Tern.Machine.Tests.State;

public sealed class StateSnapshotTests
{
    private sealed class Counter(string id, ushort version = 1) : IStateComponent
    {
        public ulong Value;
        public byte[] Blob = [];
        public string StateId => id;
        public ushort StateVersion => version;
        public void SaveState(StateWriter w) { w.WriteUInt64(Value); w.WriteBytes(Blob); }
        public void RestoreState(StateReader r, ushort v)
        {
            if (v != 1) throw new StateFormatException(StateId, $"version {v} unsupported");
            Value = r.ReadUInt64();
            Blob = r.ReadBytes();
        }
    }

    [Fact]
    public void Components_round_trip_through_the_encoding()
    {
        var a = new Counter("a") { Value = 42, Blob = [1, 2, 3] };
        var b = new Counter("b") { Value = ulong.MaxValue };
        var encoded = StateSnapshot.Capture([a, b]).Encode();

        var a2 = new Counter("a");
        var b2 = new Counter("b");
        StateSnapshot.Decode(encoded).Apply([a2, b2]);
        Assert.Equal(42UL, a2.Value);
        Assert.Equal([1, 2, 3], a2.Blob);
        Assert.Equal(ulong.MaxValue, b2.Value);
    }

    [Fact]
    public void A_flipped_bit_anywhere_in_the_body_is_caught_by_the_checksum()
    {
        var encoded = StateSnapshot.Capture([new Counter("a") { Value = 7, Blob = new byte[100] }]).Encode();
        for (int i = 20; i < encoded.Length; i += 7)
        {
            var corrupt = (byte[])encoded.Clone();
            corrupt[i] ^= 0x10;
            var e = Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(corrupt));
            Assert.Contains("checksum", e.Message);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(19)]
    [InlineData(30)]
    public void Truncated_state_is_refused(int length)
    {
        var encoded = StateSnapshot.Capture([new Counter("a") { Value = 7 }]).Encode();
        Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(encoded.AsSpan(0, Math.Min(length, encoded.Length - 1))));
    }

    [Fact]
    public void Bad_magic_and_future_versions_name_the_problem()
    {
        var encoded = StateSnapshot.Capture([new Counter("a")]).Encode();
        var wrongMagic = (byte[])encoded.Clone();
        wrongMagic[0] = (byte)'X';
        Assert.Contains("bad magic", Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(wrongMagic)).Message);
        var future = (byte[])encoded.Clone();
        future[8] = 99;
        Assert.Contains("format version 99", Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(future)).Message);
    }

    [Fact]
    public void State_for_a_different_machine_is_refused_both_ways()
    {
        var encoded = StateSnapshot.Capture([new Counter("a"), new Counter("b")]).Encode();
        var missing = Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(encoded).Apply([new Counter("a"), new Counter("b"), new Counter("c")]));
        Assert.Equal("c", missing.Section);
        var extra = Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(encoded).Apply([new Counter("a")]));
        Assert.Equal("b", extra.Section);
    }

    [Fact]
    public void A_section_from_an_unknown_component_version_is_refused_by_the_component()
    {
        var encoded = StateSnapshot.Capture([new Counter("a", version: 2)]).Encode();
        var e = Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(encoded).Apply([new Counter("a")]));
        Assert.Contains("version 2", e.Message);
    }

    [Fact]
    public void Oversized_input_is_refused_before_it_is_parsed()
    {
        var huge = new byte[StateSnapshot.MaxEncodedSize + 1];
        Assert.Contains("limit", Assert.Throws<StateFormatException>(() => StateSnapshot.Decode(huge)).Message);
    }

    [Fact]
    public void Crc32c_matches_the_standard_check_value()
    {
        // The CRC-32C check value of "123456789" (RFC 3720, Castagnoli).
        Assert.Equal(0xE3069283u, StateSnapshot.Crc32C("123456789"u8));
    }
}
