namespace Tern.Control.Tests.Support;

/// <summary>The running test's cancellation token, so that an aborted or timed-out test stops waiting at once.</summary>
public static class TestCancellation
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;
}
