using System.Text.Json;

namespace Tern.Control.Tests.Support;

/// <summary>Assertions on QMP replies.</summary>
public static class QmpAssert
{
    /// <summary>The reply is a success; returns its <c>return</c> value.</summary>
    public static JsonElement Success(JsonElement reply)
    {
        Assert.True(reply.TryGetProperty("return", out var value), $"expected a return, got {reply}");
        return value;
    }

    /// <summary>The reply is an error of <paramref name="errorClass"/> whose desc is exactly <paramref name="desc"/>.</summary>
    public static void Error(JsonElement reply, string errorClass, string desc)
    {
        Assert.True(reply.TryGetProperty("error", out var error), $"expected an error, got {reply}");
        Assert.Equal(errorClass, error.GetProperty("class").GetString());
        Assert.Equal(desc, error.GetProperty("desc").GetString());
    }

    /// <summary>The reply is a GenericError whose desc contains <paramref name="fragment"/>.</summary>
    public static void ErrorContaining(JsonElement reply, string fragment)
    {
        Assert.True(reply.TryGetProperty("error", out var error), $"expected an error, got {reply}");
        Assert.Equal("GenericError", error.GetProperty("class").GetString());
        Assert.Contains(fragment, error.GetProperty("desc").GetString());
    }

    public static void GenericError(JsonElement reply, string desc) => Error(reply, "GenericError", desc);
}
