namespace Tern.Control;

/// <summary>
/// A VM refused a control request. The message is for the operator (it becomes the QMP error's <c>desc</c>), and
/// <see cref="ErrorClass"/> is the QMP error class, <see cref="QmpErrorClass.GenericError"/> unless a client needs to tell it apart.
/// </summary>
public sealed class VmControlException : Exception
{
    public VmControlException(string message, string errorClass = QmpErrorClass.GenericError)
        : base(message)
    {
        ErrorClass = errorClass;
    }

    public VmControlException(string message, Exception innerException, string errorClass = QmpErrorClass.GenericError)
        : base(message, innerException)
    {
        ErrorClass = errorClass;
    }

    public string ErrorClass { get; }
}
