using Tern.Migration.Protocol;

namespace Tern.Migration.Engine.Source;

/// <summary>
/// The return path of a recovered post-copy link: the destination sends only PostcopyDone (or Error) on the new main
/// connection. Anything else, or a read that fails, breaks the link, and the reason names it.
/// </summary>
internal sealed class PostcopyReturnPath : IDisposable
{
    private readonly FrameConnection main;
    private readonly Action<string> broken;
    private readonly TaskCompletionSource<PostcopyDoneMessage> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread thread;

    public PostcopyReturnPath(FrameConnection main, Action<string> broken)
    {
        this.main = main;
        this.broken = broken;
        thread = new Thread(Read) { IsBackground = true, Name = "tern migration recovered return path" };
    }

    public Task<PostcopyDoneMessage> Done => done.Task;

    public void Start() => thread.Start();

    private void Read()
    {
        try
        {
            var (type, payload) = main.Read();
            switch (type)
            {
                case MessageType.PostcopyDone:
                    done.TrySetResult(PostcopyDoneMessage.Read(payload.Span));
                    return;
                case MessageType.Error:
                    broken($"the destination reported: {RemoteText.Sanitize(ErrorMessage.Read(type, payload.Span).Text)}");
                    return;
                default:
                    broken($"protocol error: the destination sent {type} on a recovered post-copy link, which carries only PostcopyDone and Error");
                    return;
            }
        }
        catch (Exception e)
        {
            broken($"the main connection failed ({SourceSession.Describe(e)})");
        }
    }

    public void Dispose()
    {
        main.Dispose();
        if (thread.IsAlive && Thread.CurrentThread != thread) thread.Join(TimeSpan.FromSeconds(5));
    }
}
