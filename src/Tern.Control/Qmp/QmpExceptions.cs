namespace Tern.Control.Qmp;

/// <summary>The QMP server answered a command with an error reply.</summary>
public sealed class QmpErrorException(string command, string errorClass, string description) : Exception(description)
{
    /// <summary>The command that failed, e.g. <c>migrate</c>.</summary>
    public string Command { get; } = command;

    /// <summary>The QMP error class, e.g. <c>GenericError</c> or <c>CommandNotFound</c>.</summary>
    public string ErrorClass { get; } = errorClass;

    /// <summary>The server's <c>desc</c>: what went wrong, for the operator.</summary>
    public string Description { get; } = description;
}

/// <summary>Could not reach the QMP server, or the connection broke or carried something other than QMP.</summary>
public sealed class QmpConnectionException : IOException
{
    public QmpConnectionException(string message) : base(message) { }

    public QmpConnectionException(string message, Exception inner) : base(message, inner) { }
}
