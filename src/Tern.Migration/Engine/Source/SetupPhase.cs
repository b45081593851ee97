using System.Diagnostics;
using Tern.Migration.Api;
using Tern.Migration.Transport;

namespace Tern.Migration.Engine.Source;

/// <summary>Connects to the destination and agrees on a version and capabilities; then the migration is active.</summary>
internal sealed class SetupPhase(SourceSession session, IMigrationTransport destination) : SourcePhase(session)
{
    public override SourcePhase? Run()
    {
        Session.Setup(destination);
        HandOverWarmUp.StartForSource();
        lock (Session.Gate) Session.SetupMs = (long)Stopwatch.GetElapsedTime(Session.StartedAt).TotalMilliseconds;
        // A cancel during the setup already moved the status on: losing this transition is how the phase learns it,
        // and the token stops the first pass at once.
        Session.StatusCell.TryTransition(MigrationStatus.Setup, MigrationStatus.Active);
        return new PrecopyPhase(Session);
    }
}
