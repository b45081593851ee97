namespace Tern.Control.Qmp;

/// <summary>A command failed in a way the client must hear about: becomes <c>{"error": {"class": ..., "desc": ...}}</c>.</summary>
internal sealed class QmpCommandException(string errorClass, string description) : Exception(description)
{
    public string ErrorClass { get; } = errorClass;

    public static QmpCommandException Generic(string description) => new(QmpErrorClass.GenericError, description);
}
