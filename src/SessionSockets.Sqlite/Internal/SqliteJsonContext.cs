using System.Text.Json.Serialization;

namespace SessionSockets.Sqlite.Internal;

[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
