namespace Tern.Kvm.Tests.Native;

/// <summary>Deterministic inputs for the codec binding tests.</summary>
internal static class NativeTestData
{
    public const int Page = 4096;

    public static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Text-like, well compressible: repeated words with a counter.</summary>
    public static byte[] Text(int length)
    {
        var data = new byte[length];
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, length / 8).Select(i => $"row {i % 97} ")));
        text.AsSpan(0, Math.Min(length, text.Length)).CopyTo(data);
        return data;
    }
}
