namespace Tern.Migration.Engine;

/// <summary>
/// Learns, pass by pass, what sending a dirty page costs: the link's rate in bytes a second and the wire bytes per
/// non-zero page (whatever mix of whole, XBZRLE and compressed pages the encoder chose). Passes too small to measure
/// keep the earlier estimates.
/// </summary>
public sealed class TransferEstimator
{
    private const double Smoothing = 0.5;
    private const long MinBytesForBandwidth = 256 << 10;
    private const long MinPagesForCost = 16;

    public double BandwidthBytesPerSecond { get; private set; }

    /// <summary>Until a pass has measured it, a dirty page is assumed to cost a whole page plus its record header.</summary>
    public double WireBytesPerPage { get; private set; } = 4096 + 8;

    /// <summary>Records one pass: bytes put on the wire, how long that took, and how many non-zero pages it carried (and their bytes).</summary>
    public void RecordPass(long bytes, TimeSpan elapsed, long nonZeroPages, long nonZeroBytes)
    {
        if (bytes >= MinBytesForBandwidth && elapsed > TimeSpan.Zero)
        {
            double rate = bytes / elapsed.TotalSeconds;
            BandwidthBytesPerSecond = BandwidthBytesPerSecond == 0 ? rate : Smoothing * rate + (1 - Smoothing) * BandwidthBytesPerSecond;
        }
        if (nonZeroPages >= MinPagesForCost)
        {
            double cost = (double)nonZeroBytes / nonZeroPages;
            WireBytesPerPage = Smoothing * cost + (1 - Smoothing) * WireBytesPerPage;
        }
    }
}
