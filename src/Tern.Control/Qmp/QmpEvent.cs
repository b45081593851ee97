using System.Text.Json;

namespace Tern.Control.Qmp;

/// <summary>An event received by a <see cref="QmpClient"/>: its name, its <c>data</c> member if any, and the server's timestamp.</summary>
public sealed record QmpEvent(string Name, JsonElement? Data, DateTimeOffset Timestamp);
