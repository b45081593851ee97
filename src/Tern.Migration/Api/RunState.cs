namespace Tern.Migration.Api;

/// <summary>The VM's run state, with the names of QEMU's QAPI <c>RunState</c> enum (as <c>query-status</c> reports it).</summary>
public enum RunState
{
    /// <summary>Created, not started yet.</summary>
    Prelaunch,
    Running,
    /// <summary>Stopped by the operator (<c>stop</c>).</summary>
    Paused,
    /// <summary>A destination waiting for, or receiving, an incoming migration.</summary>
    InMigrate,
    /// <summary>Stopped by the migration for the final copy.</summary>
    FinishMigrate,
    /// <summary>The source after it handed the VM over: the guest now runs elsewhere.</summary>
    PostMigrate,
    /// <summary>The guest shut down or triple-faulted.</summary>
    Shutdown,
    /// <summary>KVM reported an error the guest cannot continue from.</summary>
    InternalError,
    /// <summary>A guest error such as an unexpected exception.</summary>
    GuestPanicked,
}

public static class RunStateNames
{
    public static string ToQapi(this RunState state) => state switch
    {
        RunState.Prelaunch => "prelaunch",
        RunState.Running => "running",
        RunState.Paused => "paused",
        RunState.InMigrate => "inmigrate",
        RunState.FinishMigrate => "finish-migrate",
        RunState.PostMigrate => "postmigrate",
        RunState.Shutdown => "shutdown",
        RunState.InternalError => "internal-error",
        RunState.GuestPanicked => "guest-panicked",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Parses a QAPI spelling such as <c>finish-migrate</c>; false for a name QAPI does not define.</summary>
    public static bool TryParse(string name, out RunState state)
    {
        foreach (var s in Enum.GetValues<RunState>())
        {
            if (s.ToQapi() == name) { state = s; return true; }
        }
        state = default;
        return false;
    }
}
