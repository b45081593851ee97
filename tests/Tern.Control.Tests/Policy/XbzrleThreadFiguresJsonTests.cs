using System.Text.Json;
using Tern.Control.Qapi;
using Tern.Migration.Api;

namespace Tern.Control.Tests.Policy;

/// <summary>
/// The figures the XBZRLE thread choice is made from travel in <c>x-query-migrate-history</c> and read back, so a
/// recorded history replays the choice; a pass without XBZRLE carries none of them.
/// </summary>
public sealed class XbzrleThreadFiguresJsonTests
{
    [Fact]
    public void Threads_encoding_rate_and_link_rate_round_trip_and_are_absent_without_xbzrle()
    {
        var report = new PassReport
        {
            Pass = 5, XbzrleCacheBytes = 64 << 20, XbzrleThreads = 2, EncodeBytesPerThreadSecond = 83_886_080, LinkBytesPerSecond = 125_829_120,
            Decision = "continue",
        };
        var json = PassReportJson.ToJson(report);
        Assert.Equal(2, (int)json["xbzrle-threads"]!);
        Assert.Equal(83_886_080, (double)json["encode-bytes-per-thread-second"]!);
        Assert.Equal(125_829_120, (double)json["link-bytes-per-second"]!);
        using var doc = JsonDocument.Parse(json.ToJsonString());
        var back = PassReportJson.FromJson(doc.RootElement);
        Assert.Equal((2, 83_886_080.0, 125_829_120.0), (back.XbzrleThreads, back.EncodeBytesPerThreadSecond!.Value, back.LinkBytesPerSecond!.Value));

        var plain = PassReportJson.ToJson(new PassReport { Pass = 1, Decision = "continue" });
        foreach (var absent in new[] { "xbzrle-threads", "encode-bytes-per-thread-second", "link-bytes-per-second" })
            Assert.False(plain.ContainsKey(absent), absent);
    }
}
