using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets;
using SessionSockets.Testing;

namespace Chat.Tests;

/// <summary>
/// One <c>expiresAt</c> format on the wire (docs/protocol.md section 5): ISO 8601 UTC ending in <c>Z</c>, the same
/// string in the <c>/login</c> reply, the <c>session</c> reply and <c>whoami</c>.
/// </summary>
public partial class ExpiresAtFormatTests
{
    [Test]
    public async Task ExpiresAt_LoginSessionReplyAndWhoami_AreTheSameUtcStringEndingInZ()
    {
        await using var host = await SessionSocketsTestHost.StartAsync(
            builder => builder.Services.AddSessionWebSockets().AddChatHandlers(),
            app =>
            {
                app.UseSessionWebSockets();
                app.MapChatEndpoints(TimeSpan.FromHours(8));
            });
        using var http = host.Server.CreateClient();
        var login = await http.PostAsJsonAsync("/login", new { user = "erin" });
        var loginReply = await login.Content.ReadFromJsonAsync<JsonElement>();
        var client = await host.ConnectAsync();

        var session = await client.RequestAsync("session", new { sessionId = loginReply.GetProperty("sessionId").GetString() });
        var whoami = await client.RequestAsync("whoami");

        var fromLogin = loginReply.GetProperty("expiresAt").GetString();
        Assert.That(fromLogin, Does.Match(UtcWithZ()));
        Assert.That(fromLogin, Is.EqualTo("2030-01-01T08:00:00Z"), "eight hours after the test host's start");
        Assert.That(session.Data.GetProperty("expiresAt").GetString(), Is.EqualTo(fromLogin));
        Assert.That(whoami.Data.GetProperty("expiresAt").GetString(), Is.EqualTo(fromLogin));
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$")]
    private static partial Regex UtcWithZ();
}
