using System.Text.Json;

namespace SessionSockets.TestSupport;

/// <summary>Short reads of an envelope for assertions; a missing property reads as <see langword="null"/>.</summary>
public static class JsonElementExtensions
{
    public static string? Str(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The <c>data.code</c> of an error, or <see langword="null"/> when the message is not one.</summary>
    public static string? ErrorCode(this JsonElement element) =>
        element.Str("type") == "error" ? element.GetProperty("data").Str("code") : null;

    /// <summary>The <c>data.status</c> of a <c>session</c> reply or push.</summary>
    public static string? Status(this JsonElement element) => element.GetProperty("data").Str("status");
}
