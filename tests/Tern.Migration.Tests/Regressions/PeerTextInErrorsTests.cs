using Tern.Machine;
using Tern.Migration.Protocol;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Regressions;

/// <summary>
/// What a Hello names (the backend, the workload) appears in the destination's refusal quoted and cut short, so the
/// refusal names the real cause. A 4 KiB backend name was once reported as a string that is too long for the
/// protocol (the refusal, which repeated it twice, could not be sent); "KVM" was reported as "the source runs a KVM
/// guest and this destination runs kvm guests", which reads as no difference at all.
/// </summary>
public sealed class PeerTextInErrorsTests
{
    [Fact]
    public void A_4_KiB_backend_name_is_refused_as_an_unknown_backend()
    {
        using var raw = new RawSource();
        string name = new('x', PayloadReader.MaxStringBytes);
        raw.Send(MessageType.Hello, RawSource.Hello(backend: name).Write);

        var error = raw.ExpectRejection(ErrorMessage.Incompatible);
        Assert.Contains($"the source names its machine backend '{new string('x', PeerText.ShownChars)}...' (4096 characters), which is not one of Tern's", error.Text);
        Assert.DoesNotContain("too long", error.Text);
        Assert.True(error.Text.Length < 400, error.Text);
    }

    [Fact]
    public void A_backend_name_in_the_wrong_case_is_named_as_such()
    {
        using var raw = new RawSource();
        raw.Send(MessageType.Hello, RawSource.Hello(backend: "SIM").Write);

        var error = raw.ExpectRejection(ErrorMessage.Incompatible);
        Assert.Contains("the source names its machine backend 'SIM', which is not one of Tern's ('kvm' or 'sim', in lower case)", error.Text);
    }

    [Fact]
    public void A_4_KiB_workload_is_refused_by_what_is_wrong_with_it()
    {
        using var raw = new RawSource();
        raw.Send(MessageType.Hello, RawSource.Hello(workload: new string('w', PayloadReader.MaxStringBytes)).Write);

        var error = raw.ExpectRejection(ErrorMessage.Incompatible);
        Assert.Contains($"the simulated source describes workload '{new string('w', PeerText.ShownChars)}...' (4096 characters), which is not a workload", error.Text);
    }

    [Fact]
    public void Control_characters_in_a_workload_are_escaped_also_where_the_parser_repeats_them()
    {
        // Found by the mutated-stream test: the parser's own error quoted the raw entry, NULs and all.
        using var raw = new RawSource();
        raw.Send(MessageType.Hello, RawSource.Hello(workload: "seq:w\0\0\u001b[31m").Write);

        var error = raw.ExpectRejection(ErrorMessage.Incompatible);
        Assert.Contains("the simulated source describes workload 'seq:w\\u0000\\u0000\\u001b[31m'", error.Text);
        Assert.False(error.Text.Any(char.IsControl), error.Text);
        Assert.False(raw.Destination.Info().ErrorDesc!.Any(char.IsControl), raw.Destination.Info().ErrorDesc);
    }
}
