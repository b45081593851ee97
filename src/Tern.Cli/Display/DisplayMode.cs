namespace Tern.Cli.Display;

/// <summary>How `tern run` shows the VM.</summary>
public enum DisplayMode
{
    /// <summary>Live on a terminal, plain lines otherwise.</summary>
    Auto,
    Live,
    Plain,
    None,
}
