using Tern.Migration.Api;
using Tern.Migration.Engine;
using Tern.Migration.Tests.Engine;

namespace Tern.Migration.Tests.Features;

public sealed class MultifdMigrationTests
{
    [Fact]
    public void Page_data_goes_over_every_channel_and_the_result_verifies()
    {
        using var m = LocalMigration.Sim("random:ws=32M,rate=30", memoryBytes: 128 << 20, vcpus: 2);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetCapability(MigrationCapability.Multifd, true);
        m.Settings.SetParameters(new MigrationParameters { MultifdChannels = 4 });
        m.Source.Resume();
        Thread.Sleep(300);
        var source = m.Run();
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        var info = source.Info();
        Assert.True(info.Verification!.Matched);
        Assert.Equal(4, info.Channels);
        Assert.Equal(4, info.ChannelBytes!.Count);
        foreach (var bytes in info.ChannelBytes) Assert.True(bytes > 1 << 20, $"every channel carried pages: {string.Join(", ", info.ChannelBytes)}");
        Assert.True(info.Ram!.MultifdBytes > 0);
    }

    [Fact]
    public void The_number_of_channels_can_change_during_the_migration()
    {
        using var m = LocalMigration.Sim("hotcold:ws=32M,hot=8M,p=0.9,rate=30", memoryBytes: 64 << 20, vcpus: 1);
        m.Settings.SetCapability(MigrationCapability.Verify, true);
        m.Settings.SetParameters(new MigrationParameters { MaxBandwidth = 64 << 20, DowntimeLimitMs = 20, TimeoutMs = 60_000, MultifdChannels = 3 });
        m.Source.Resume();
        Thread.Sleep(300);
        var (source, run) = m.Start();
        source.Event += e =>
        {
            if (e is MigrationPassStarted { Pass: 2 }) m.Settings.SetCapability(MigrationCapability.Multifd, true);
        };
        m.Finish(source, run);
        Assert.True(source.Status == MigrationStatus.Completed, m.Describe(source));
        var info = source.Info();
        Assert.True(info.Verification!.Matched);
        Assert.Equal(3, info.ChannelBytes!.Count);
        Assert.True(info.ChannelBytes[2] > 0, "the channels opened mid-migration carried pages");
    }
}
