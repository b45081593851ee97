namespace Tern.Control.Qmp;

/// <summary>What one QMP connection has negotiated. Read by the event path on other threads, hence volatile.</summary>
internal sealed class QmpSessionState
{
    private volatile bool _commandMode;
    private volatile bool _oobEnabled;

    /// <summary>False until <c>qmp_capabilities</c> succeeds; events go only to connections in command mode.</summary>
    public bool CommandMode { get => _commandMode; set => _commandMode = value; }

    /// <summary>The client enabled the <c>oob</c> capability, so <c>exec-oob</c> is a known member.</summary>
    public bool OobEnabled { get => _oobEnabled; set => _oobEnabled = value; }
}
