namespace Tern.Machine.State;

/// <summary>Saved machine state that cannot be read: corrupt, truncated, from an unknown version, or for another machine.</summary>
public sealed class StateFormatException : Exception
{
    public StateFormatException(string section, string problem) : base($"machine state section '{section}': {problem}") => Section = section;

    public string Section { get; }
}
