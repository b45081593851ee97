namespace Tern.Guest;

/// <summary>
/// A guest that cannot be built as asked (the working set does not fit in RAM, too many vCPUs, ...).
/// The message says what is wrong and what would work.
/// </summary>
public sealed class GuestConfigurationException(string message) : Exception(message);
