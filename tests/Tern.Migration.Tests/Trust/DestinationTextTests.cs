using Tern.Migration.Tests.Failures;
using Tern.Migration.Tests.Support;

namespace Tern.Migration.Tests.Trust;

/// <summary>
/// What the source reports is for an operator: the cause itself (not .NET's "One or more errors occurred"), and the
/// destination's words made harmless (no terminal escapes, no control characters, a bounded length).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class DestinationTextTests
{
    [Fact]
    public void A_failure_inside_a_task_is_reported_as_its_cause_not_as_an_aggregate()
    {
        using var run = new LyingPeerRun(LieStep.Complete, Lie.Ready, LyingPeerRun.Converging,
            wrap: guest => new PauseFailingMachine(guest, "vCPU 0 did not stop: KVM_RUN returned EIO"));
        var source = run.Migrate();

        run.AssertSourceKeptTheVm(source);
        Assert.Equal("vCPU 0 did not stop: KVM_RUN returned EIO; the VM keeps running on the source", source.Info().ErrorDesc);
    }

    [Fact]
    public void A_destination_that_hangs_up_on_Hello_is_reported_as_gone()
    {
        using var run = new LyingPeerRun(LieStep.Hello, Lie.HangUp, LyingPeerRun.Converging);
        var source = run.Migrate();

        run.AssertSourceKeptTheVm(source);
        var error = source.Info().ErrorDesc!;
        Assert.DoesNotContain("One or more errors occurred", error);
        Assert.StartsWith("the destination went away: ", error);
        Assert.Contains("closed the connection", error);
    }

    [Fact]
    public void A_destination_error_is_shown_without_escapes_or_control_characters_and_capped()
    {
        using var run = new LyingPeerRun(LieStep.Hello, Lie.HostileError, LyingPeerRun.Converging);
        var source = run.Migrate();

        run.AssertSourceKeptTheVm(source);
        var error = source.Info().ErrorDesc!;
        Assert.StartsWith("the destination reported: disk on fire\\x0d\\x0asource: migration completed\\u202exxx", error);
        Assert.DoesNotContain(error, char.IsControl);
        Assert.DoesNotContain("[31m", error);
        Assert.DoesNotContain("owned", error);
        Assert.Contains("more characters)", error);
        Assert.True(error.Length < 700, $"{error.Length} characters: {error}");
    }
}
