using System.Diagnostics.CodeAnalysis;
using Tern.Memory;

namespace Tern.Migration.Xbzrle;

/// <summary>Throw helpers, kept out of the codec's hot paths so the JIT inlines those.</summary>
internal static class XbzrleThrow
{
    [DoesNotReturn]
    public static void NotAPage(string parameter, int length) =>
        throw new ArgumentException($"a page must be exactly {PageSize.Bytes} bytes; this one is {length}", parameter);

    [DoesNotReturn]
    public static void DestinationTooSmall(string parameter, int length) =>
        throw new ArgumentException($"the destination must hold at least one page ({PageSize.Bytes} bytes); this one holds {length}", parameter);
}
