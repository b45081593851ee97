using Tern.Guest;
using Tern.Machine.Sim;
using Tern.Migration.Engine;
using Tern.Migration.Engine.Source;

namespace Tern.Migration.Tests.Failures;

/// <summary>
/// A failure reported to the source after it was disposed: a timer callback (the write-stall watchdog, the pass
/// timeout) that was already running when teardown disposed its timer reports on a thread-pool thread, and
/// Timer.Dispose does not wait for it. The report once threw ObjectDisposedException (the session's cancellation was
/// disposed), which escapes that thread and ends the process.
/// </summary>
public sealed class LateFailureTests
{
    [Fact]
    public void A_failure_reported_after_the_source_was_disposed_is_absorbed()
    {
        using var machine = SimMachine.Create(new SimMachineOptions(16 << 20, 1, WorkloadSpec.Parse("idle")));
        var session = new SourceSession(machine, new MigrationSettings());
        session.Dispose();

        Exception? thrown = null;
        // On a thread of its own, as the timer callback is.
        var late = new Thread(() =>
        {
            try { session.Fail(new IOException("the destination stopped reading")); }
            catch (Exception e) { thrown = e; }
        });
        late.Start();
        Assert.True(late.Join(TimeSpan.FromSeconds(10)), "the late report did not return");
        Assert.Null(thrown);
    }
}
