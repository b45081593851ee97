namespace Tern.Control;

/// <summary>QMP error classes (QAPI <c>QapiErrorClass</c>). QEMU uses GenericError for almost everything.</summary>
public static class QmpErrorClass
{
    public const string GenericError = "GenericError";
    public const string CommandNotFound = "CommandNotFound";
    public const string DeviceNotActive = "DeviceNotActive";
    public const string DeviceNotFound = "DeviceNotFound";
    public const string KvmMissingCap = "KVMMissingCap";
}
