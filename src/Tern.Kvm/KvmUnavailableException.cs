namespace Tern.Kvm;

/// <summary>KVM cannot be used on this host as Tern needs it; the message says what to do about it.</summary>
public sealed class KvmUnavailableException : Exception
{
    public KvmUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
