using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chat;

/// <summary>The <c>whoami</c> reply.</summary>
/// <param name="UserId">The bound session's user.</param>
/// <param name="ExpiresAt">When the session expires (UTC, written with <c>Z</c>).</param>
/// <param name="ConnectionId">This connection's id.</param>
public sealed record WhoAmI(string UserId, DateTime ExpiresAt, string ConnectionId);

/// <summary>A pushed chat message.</summary>
/// <param name="From">Who sent it.</param>
/// <param name="Text">What they wrote.</param>
/// <param name="At">When the server sent it (UTC).</param>
public sealed record ChatMessage(string From, string Text, DateTime At);

/// <summary>The reply to a chat message that was sent.</summary>
/// <param name="Ok">Always <see langword="true"/>.</param>
public sealed record ChatSent(bool Ok);

/// <summary>The reply to a chat message sent to a room.</summary>
/// <param name="Ok">Always <see langword="true"/>.</param>
/// <param name="Offset">The publication's offset in the room's history.</param>
public sealed record RoomSent(bool Ok, long Offset);

/// <summary>A direct message, pushed on the recipient's <c>user:</c> channel.</summary>
/// <param name="From">Who sent it.</param>
/// <param name="Text">What they wrote.</param>
/// <param name="At">When the server sent it (UTC).</param>
/// <param name="Direct">Always <see langword="true"/>.</param>
public sealed record DirectMessage(string From, string Text, DateTime At, bool Direct);

/// <summary>The <c>POST /login</c> answer.</summary>
/// <param name="Token">The session token (also set as the <c>sid</c> cookie).</param>
/// <param name="SessionId">The same value, under the name the JS client's option uses.</param>
/// <param name="UserId">The user.</param>
/// <param name="ExpiresAt">When the session expires (UTC).</param>
public sealed record LoginResult(string Token, string SessionId, string UserId, DateTime ExpiresAt);

/// <summary>The body of a <c>400</c>.</summary>
/// <param name="Error">What was wrong.</param>
public sealed record HttpError(string Error);

/// <summary>The <c>POST /login</c> body.</summary>
/// <param name="User">The user name.</param>
public sealed record LoginRequest(string? User);

/// <summary>
/// Source-generated JSON metadata for every type the sample reads or writes, so the app runs under Native AOT with
/// reflection off; the JIT build uses the same metadata (camelCase, as ASP.NET Core's web defaults).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ChatSend))]
[JsonSerializable(typeof(ChatDirect))]
[JsonSerializable(typeof(RoomSent))]
[JsonSerializable(typeof(DirectMessage))]
[JsonSerializable(typeof(WhoAmI))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(ChatSent))]
[JsonSerializable(typeof(LoginResult))]
[JsonSerializable(typeof(HttpError))]
[JsonSerializable(typeof(LoginRequest))]
public sealed partial class ChatJsonContext : JsonSerializerContext;
