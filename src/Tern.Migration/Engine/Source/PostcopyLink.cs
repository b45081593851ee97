using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// The connections that carry a post-copy migration after the switch (the main connection and the urgent lane) and
/// whether they still work. The first thread to find the link broken (the background stream, the urgent lane, the
/// return path, migrate-pause) says why; that reason is kept, the connections are closed so that every other thread
/// using them stops at once, and the phase pauses the migration. A recovery makes a new link.
/// </summary>
internal sealed class PostcopyLink : IDisposable
{
    private readonly CancellationTokenSource broken = new();
    private readonly List<IDisposable> parts = [];
    private string? reason;

    /// <param name="main">The main connection (the background stream and the return path).</param>
    /// <param name="done">Completes with the destination's PostcopyDone read on <paramref name="main"/>.</param>
    public PostcopyLink(FrameConnection main, Task<PostcopyDoneMessage> done)
    {
        Main = main;
        Done = done;
    }

    public FrameConnection Main { get; }
    public Task<PostcopyDoneMessage> Done { get; }

    /// <summary>Cancelled when the link breaks.</summary>
    public CancellationToken Broken => broken.Token;

    /// <summary>Why the link broke (the first reason given); null while it works.</summary>
    public string? Reason => Volatile.Read(ref reason);

    /// <summary>Something else this link owns and closes when it breaks (the urgent lane, a return-path reader).</summary>
    public void Own(IDisposable part)
    {
        bool already;
        lock (parts)
        {
            already = Reason is not null;
            parts.Add(part);
        }
        if (already) part.Dispose();
    }

    /// <summary>The link is broken: keeps the first reason and closes every connection.</summary>
    public void Break(string why)
    {
        if (Interlocked.CompareExchange(ref reason, why, null) is not null) return;
        try
        {
            broken.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the reason being set here and this (Dispose keeps the first reason): the link is closed
            // already. Thrown on, it would escape the reporting thread (the return path, the urgent lane) and end the
            // process.
            return;
        }
        Close();
    }

    private void Close()
    {
        Main.Dispose();
        IDisposable[] owned;
        lock (parts) owned = [.. parts];
        foreach (var part in owned) part.Dispose();
    }

    public void Dispose()
    {
        Interlocked.CompareExchange(ref reason, "the link was closed", null);
        Close();
        broken.Dispose();
    }
}
