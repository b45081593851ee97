using System.Reflection;

namespace Tern.Control.Qmp;

/// <summary>Tunables of a <see cref="QmpServer"/>. The defaults suit every real client; tests shrink them to reach the limits.</summary>
public sealed record QmpServerOptions
{
    /// <summary>Default cap on one incoming message. QMP commands are a few hundred bytes; 1 MiB leaves room for any real one.</summary>
    public const int DefaultMaxMessageBytes = 1 << 20;

    /// <summary>
    /// Default number of messages queued for one client. Migration events come a few per second, so a client that falls this
    /// far behind is not reading at all; it is disconnected rather than allowed to hold memory or delay the VM.
    /// </summary>
    public const int DefaultClientQueueCapacity = 1024;

    /// <summary>Default time a closing server waits to deliver queued replies (e.g. to <c>quit</c>) before it drops clients.</summary>
    public static readonly TimeSpan DefaultCloseFlushTimeout = TimeSpan.FromSeconds(1);

    public int MaxMessageBytes { get; init; } = DefaultMaxMessageBytes;

    public int ClientQueueCapacity { get; init; } = DefaultClientQueueCapacity;

    public TimeSpan CloseFlushTimeout { get; init; } = DefaultCloseFlushTimeout;

    /// <summary>The <c>package</c> string of the greeting and of <c>query-version</c>.</summary>
    public string Package { get; init; } = DefaultPackage();

    /// <summary>Where warnings go (a client dropped, a request that failed unexpectedly); standard error when null.</summary>
    public Action<string>? LogWarning { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (MaxMessageBytes < 64)
        {
            throw new ArgumentException($"MaxMessageBytes must be at least 64, not {MaxMessageBytes}", nameof(MaxMessageBytes));
        }
        if (ClientQueueCapacity < 1)
        {
            throw new ArgumentException($"ClientQueueCapacity must be at least 1, not {ClientQueueCapacity}", nameof(ClientQueueCapacity));
        }
        if (CloseFlushTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException("CloseFlushTimeout must not be negative", nameof(CloseFlushTimeout));
        }
    }

    private static string DefaultPackage()
    {
        var assembly = typeof(QmpServerOptions).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString() ?? "0";
        var plus = version.IndexOf('+');   // drop the source-revision suffix the SDK appends
        return "tern " + (plus >= 0 ? version[..plus] : version);
    }
}
