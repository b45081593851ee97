using Tern.Control.Text;
using Tern.Migration.Api;

namespace Tern.Control.Tests;

public sealed class InfoMigrateFormatterTests
{
    [Fact]
    public void An_active_migration_with_xbzrle_and_compression_reads_like_QEMU_7_2()
    {
        var text = InfoMigrateFormatter.Format(SampleMigrations.Active);

        Assert.Equal(
            """
            Migration status: active
            total time: 5230 ms
            expected downtime: 42 ms
            setup: 12 ms
            transferred ram: 716800 kbytes
            throughput: 1123.46 mbps
            remaining ram: 51200 kbytes
            total ram: 1048576 kbytes
            duplicate: 120000 pages
            normal: 179200 pages
            normal bytes: 716800 kbytes
            dirty sync count: 3
            page size: 4 kbytes
            multifd bytes: 0 kbytes
            pages-per-second: 34000
            dirty pages rate: 3100 pages
            precopy ram: 716800 kbytes
            cache size: 67108864 bytes
            xbzrle transferred: 10240 kbytes
            xbzrle pages: 9000 pages
            xbzrle cache miss: 1200 pages
            xbzrle cache miss rate: 0.12
            xbzrle encoding rate: 7.50
            xbzrle overflow: 3
            compression pages: 50000 pages
            compression busy: 12
            compression busy rate: 0.01
            compressed size: 20480 kbytes
            compression rate: 9.76
            channels: 4
            converging: yes

            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public void A_completed_migration_shows_downtime_and_Tern_extras()
    {
        var text = InfoMigrateFormatter.Format(SampleMigrations.Completed);

        Assert.Equal(
            """
            Migration status: completed
            total time: 8012 ms
            downtime: 61 ms
            setup: 12 ms
            transferred ram: 716800 kbytes
            throughput: 1123.46 mbps
            remaining ram: 0 kbytes
            total ram: 1048576 kbytes
            duplicate: 120000 pages
            normal: 179200 pages
            normal bytes: 716800 kbytes
            dirty sync count: 5
            page size: 4 kbytes
            multifd bytes: 0 kbytes
            pages-per-second: 34000
            precopy ram: 716800 kbytes
            downtime ram: 2048 kbytes
            cache size: 67108864 bytes
            xbzrle transferred: 10240 kbytes
            xbzrle pages: 9000 pages
            xbzrle cache miss: 1200 pages
            xbzrle cache miss rate: 0.12
            xbzrle encoding rate: 7.50
            xbzrle overflow: 3
            compression pages: 50000 pages
            compression busy: 12
            compression busy rate: 0.01
            compressed size: 20480 kbytes
            compression rate: 9.76
            guest-observed downtime: 75 ms
            verification: matched (262144 pages compared, digest 0x0123456789abcdef)
            channels: 4

            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public void A_failed_migration_shows_its_error_and_a_mismatch_is_loud()
    {
        var info = new MigrationInfo
        {
            Status = MigrationStatus.Failed,
            ErrorDesc = "RAM digests differ",
            Verification = new VerificationResult(false, 1, 2, 10),
        };

        var text = InfoMigrateFormatter.Format(info);

        Assert.Equal(
            "Migration status: failed (RAM digests differ)\n" +
            "verification: MISMATCH (10 pages compared, source digest 0x0000000000000001, destination digest 0x0000000000000002)\n",
            text);
    }

    [Fact]
    public void The_engines_plan_and_the_switchover_steps_follow_the_QEMU_lines()
    {
        var info = new MigrationInfo
        {
            Status = MigrationStatus.Completed,
            Plan = new PlanInfo(5, "switchover", "the final pass: the guest is paused", false, 0, null, null, null),
            Switchover = [new(SwitchoverStep.Pause, 0.44), new(SwitchoverStep.FinalSync, 1.25), new(SwitchoverStep.Resumed, 12)],
        };

        var text = InfoMigrateFormatter.Format(info);

        Assert.Equal(
            "Migration status: completed\n" +
            "plan for pass 5: switchover (the final pass: the guest is paused)\n" +
            "switchover steps: pause 0.4 ms, final-sync 1.3 ms, resumed 12.0 ms\n",
            text);
    }

    [Fact]
    public void A_paused_postcopy_says_why_on_the_status_line()
    {
        var info = new MigrationInfo { Status = MigrationStatus.PostcopyPaused, ErrorDesc = "post-copy paused: the main connection failed (Connection reset by peer); 12 pages (48 KiB) are only on the source" };

        var text = InfoMigrateFormatter.Format(info);

        Assert.StartsWith("Migration status: postcopy-paused (post-copy paused: the main connection failed (Connection reset by peer); 12 pages (48 KiB) are only on the source)\n", text);
        Assert.Equal("postcopy-recover (why)", MigrationProgressText.Describe(new Tern.Control.Qmp.MigrationProgress(new MigrationInfo { Status = MigrationStatus.PostcopyRecover, ErrorDesc = "why" }, 0)));
    }

    [Fact]
    public void No_migration_yet_is_one_line()
    {
        Assert.Equal("Migration status: none\n", InfoMigrateFormatter.Format(new MigrationInfo()));
    }
}
