using Tern.Migration.Api;
using Tern.Migration.Engine.Source;

namespace Tern.Migration.Tests.Engine;

/// <summary>A status change is one compare-and-swap from an expected status, then its event; the loser learns it.</summary>
public sealed class MigrationStatusCellTests
{
    [Fact]
    public void Of_many_threads_racing_from_the_same_status_exactly_one_wins_and_only_its_event_is_raised()
    {
        MigrationStatus[] targets = [MigrationStatus.Cancelling, MigrationStatus.Completed, MigrationStatus.Failed, MigrationStatus.Cancelled];
        for (int round = 0; round < 200; round++)
        {
            var cell = new MigrationStatusCell(MigrationStatus.Active);
            var raised = new List<MigrationStatus>();
            cell.Changed += s => { lock (raised) raised.Add(s); };
            var wins = new bool[8];
            using var start = new Barrier(wins.Length);
            var threads = Enumerable.Range(0, wins.Length).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                wins[i] = cell.TryTransition(MigrationStatus.Active, targets[i % targets.Length]);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            int winner = Array.IndexOf(wins, true);
            Assert.Equal(1, wins.Count(w => w));
            Assert.Equal(targets[winner % targets.Length], cell.Current);
            Assert.Equal([cell.Current], raised);
        }
    }

    [Fact]
    public void A_transition_from_a_status_that_is_no_longer_current_changes_nothing()
    {
        var cell = new MigrationStatusCell();
        int events = 0;
        cell.Changed += _ => events++;
        Assert.True(cell.TryTransition(MigrationStatus.Setup, MigrationStatus.Cancelling)); // a cancel during the setup
        Assert.False(cell.TryTransition(MigrationStatus.Setup, MigrationStatus.Active));    // the setup ends: too late
        Assert.Equal(MigrationStatus.Cancelling, cell.Current);
        Assert.Equal(1, events);
    }

    [Fact]
    public void A_finished_status_is_final()
    {
        var cell = new MigrationStatusCell(MigrationStatus.Active);
        Assert.True(cell.TryTransitionFromAny(MigrationStatus.Completed));
        Assert.False(cell.TryTransitionFromAny(MigrationStatus.Failed));
        Assert.False(cell.TryTransition(MigrationStatus.Completed, MigrationStatus.Active));
        Assert.Equal(MigrationStatus.Completed, cell.Current);
    }

    [Fact]
    public void The_end_of_a_migration_racing_a_cancel_leaves_one_final_status_and_one_event_each()
    {
        for (int round = 0; round < 200; round++)
        {
            var cell = new MigrationStatusCell(MigrationStatus.Active);
            var raised = new List<MigrationStatus>();
            cell.Changed += s => { lock (raised) raised.Add(s); };
            using var start = new Barrier(2);
            var cancel = new Thread(() => { start.SignalAndWait(); cell.TryTransition(MigrationStatus.Active, MigrationStatus.Cancelling); });
            var finish = new Thread(() => { start.SignalAndWait(); cell.TryTransitionFromAny(MigrationStatus.Failed); });
            cancel.Start();
            finish.Start();
            cancel.Join();
            finish.Join();

            Assert.Equal(MigrationStatus.Failed, cell.Current);
            lock (raised)
            {
                Assert.Equal(1, raised.Count(s => s == MigrationStatus.Failed));
                Assert.True(raised.Count <= 2 && raised.All(s => s is MigrationStatus.Failed or MigrationStatus.Cancelling), string.Join(",", raised));
            }
        }
    }
}
