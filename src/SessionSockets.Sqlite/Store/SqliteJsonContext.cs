using System.Text.Json.Serialization;

namespace SessionSockets.Sqlite.Store;

[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
