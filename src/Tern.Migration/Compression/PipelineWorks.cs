namespace Tern.Migration.Compression;

/// <summary>Creates one work function per worker on the caller's thread, so a missing library fails the constructor.</summary>
internal static class PipelineWorks
{
    public static IReadOnlyList<IPageJobWork> Create(int count, Func<IPageJobWork> create)
    {
        var works = new List<IPageJobWork>(count);
        try
        {
            for (var i = 0; i < count; i++) works.Add(create());
            return works;
        }
        catch
        {
            foreach (var work in works) work.Dispose();
            throw;
        }
    }
}
