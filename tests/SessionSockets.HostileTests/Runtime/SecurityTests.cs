using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using SessionSockets.HostileTests.Support;

namespace SessionSockets.HostileTests.Runtime;

/// <summary>Origin exactness, token handling (CSPRNG, hash-only storage, never in logs or replies), brute force, rate limits, isolation.</summary>
[NonParallelizable]
public class SecurityTests
{
    [TestCase(null, HttpStatusCode.SwitchingProtocols, TestName = "Origin_Missing_AcceptedAsNonBrowser")]
    [TestCase("http://127.0.0.1:{PORT}", HttpStatusCode.SwitchingProtocols, TestName = "Origin_SameHost_Accepted")]
    [TestCase("HTTP://127.0.0.1:{PORT}", HttpStatusCode.SwitchingProtocols, TestName = "Origin_SameHostUpperCaseScheme_Accepted")]
    [TestCase("https://chat.example", HttpStatusCode.SwitchingProtocols, TestName = "Origin_ListedExactly_Accepted")]
    [TestCase("https://chat.example:443", HttpStatusCode.SwitchingProtocols, TestName = "Origin_ListedWithDefaultPort_Accepted")]
    [TestCase("http://chat.example", HttpStatusCode.Forbidden, TestName = "Origin_ListedHostOtherScheme_Refused")]
    [TestCase("https://chat.example:8443", HttpStatusCode.Forbidden, TestName = "Origin_ListedHostOtherPort_Refused")]
    [TestCase("https://chat.example.evil.test", HttpStatusCode.Forbidden, TestName = "Origin_ListedAsPrefix_Refused")]
    [TestCase("https://evilchat.example", HttpStatusCode.Forbidden, TestName = "Origin_ListedAsSuffix_Refused")]
    [TestCase("https://sub.chat.example", HttpStatusCode.Forbidden, TestName = "Origin_SubdomainOfListed_Refused")]
    [TestCase("https://chat.example@evil.test", HttpStatusCode.Forbidden, TestName = "Origin_UserInfoTrick_Refused")]
    [TestCase("https://chat.example/", HttpStatusCode.SwitchingProtocols, TestName = "Origin_ListedWithSlash_Accepted")]
    [TestCase("https://chat.example/path", HttpStatusCode.Forbidden, TestName = "Origin_WithPath_Refused")]
    [TestCase("null", HttpStatusCode.Forbidden, TestName = "Origin_NullOpaque_Refused")]
    [TestCase("*", HttpStatusCode.Forbidden, TestName = "Origin_Wildcard_Refused")]
    [TestCase("http://127.0.0.1:1", HttpStatusCode.Forbidden, TestName = "Origin_SameHostOtherPort_Refused")]
    [TestCase("http://localhost:{PORT}", HttpStatusCode.Forbidden, TestName = "Origin_OtherNameForSameMachine_Refused")]
    [TestCase("file://", HttpStatusCode.Forbidden, TestName = "Origin_File_Refused")]
    public async Task Origin_IsMatchedExactly(string? origin, HttpStatusCode expected)
    {
        await using var host = await TestHost.StartAsync(o => o.AllowedOrigins.Add("https://chat.example"));

        var status = await host.HandshakeStatusAsync(origin: origin?.Replace("{PORT}", host.HttpUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.That(status, Is.EqualTo(expected));
    }

    [Test]
    public async Task Tokens_Are256RandomBits_AndOnlyTheirSha256IsStored()
    {
        await using var host = await TestHost.StartAsync();
        var created = new List<CreatedSession>();
        for (var i = 0; i < 200; i++)
        {
            created.Add(await host.LoginAsync($"u{i}"));
        }

        var rows = new List<(string Id, string User)>();
        await using (var connection = new SqliteConnection($"Data Source={host.DatabasePath};Mode=ReadOnly;Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT * FROM sessions";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var values = new object[reader.FieldCount];
                reader.GetValues(values);
                var text = string.Join("|", values);
                foreach (var session in created)
                {
                    Assert.That(text, Does.Not.Contain(session.Token), "a raw token in the table");
                }

                rows.Add((reader.GetString(reader.GetOrdinal("id")), reader.GetString(reader.GetOrdinal("user_id"))));
            }
        }

        Assert.That(rows, Has.Count.EqualTo(200));
        var bitsSet = 0L;
        foreach (var session in created)
        {
            var raw = Convert.FromBase64String(session.Token.Replace('-', '+').Replace('_', '/') + "=");
            Assert.That(raw, Has.Length.EqualTo(32), "256 bits");
            bitsSet += raw.Sum(b => System.Numerics.BitOperations.PopCount(b));
            var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(session.Token))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.That(rows, Does.Contain((hash, session.Session.UserId)), "the row's id is the SHA-256 of the token");
        }

        Assert.That(created.Select(s => s.Token).Distinct().Count(), Is.EqualTo(200));

        // 51,200 random bits: a fair source sets half of them, within 6 standard deviations (~680).
        Assert.That(bitsSet, Is.InRange(25_600 - 680, 25_600 + 680));
    }

    [Test]
    public async Task Tokens_NeverInLogsAboveTrace_NorInAnyReply()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.AllowQueryStringToken = true;
            o.MaxFailedSessionAttempts = 100;
        });
        var session = await host.LoginAsync("secret-keeper");
        var replies = new List<string>();

        // Every path a token travels: cookie, bearer, in-band (valid, invalid, expired), revocation, a store outage.
        using (var byCookie = await host.ConnectAsync(cookie: session.Token))
        {
            replies.Add((await byCookie.RequestAsync("whoami", "1")).ToString());
        }

        using var client = await host.ConnectAsync(bearer: session.Token);
        replies.Add((await client.RequestAsync("session", "2", new { sessionId = session.Token })).ToString());
        var guessed = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        replies.Add((await client.RequestAsync("session", "3", new { sessionId = guessed })).ToString());
        replies.Add((await client.RequestAsync("session", "4", new { sessionId = session.Token })).ToString());
        replies.Add((await client.RequestAsync("nope", "5", new { sessionId = session.Token })).ToString());
        replies.Add((await client.RequestAsync("echo", "6", new { other = 1 })).ToString());
        await host.Sessions.DeleteAsync(session.Token);
        replies.AddRange((await client.ReceiveUntilCloseAsync()).Select(m => m.ToString()));

        var tokens = new[] { session.Token, guessed };
        foreach (var reply in replies)
        {
            Assert.That(tokens.Any(t => reply.Contains(t, StringComparison.Ordinal)), Is.False, "token in a reply: " + reply);
        }

        var aboveTrace = host.Logs.Entries.Where(e => e.Level > Microsoft.Extensions.Logging.LogLevel.Trace).ToList();
        Assert.That(aboveTrace, Is.Not.Empty);
        foreach (var entry in aboveTrace)
        {
            Assert.That(tokens.Any(t => entry.Text.Contains(t, StringComparison.Ordinal)), Is.False, "token in a log line: " + entry);
        }
    }

    [TestCase("' OR '1'='1")]
    [TestCase("'; DROP TABLE sessions; --")]
    [TestCase("\" OR \"\"=\"")]
    [TestCase("x' UNION SELECT id, user_id, created_at, expires_at, last_seen_at, data FROM sessions --")]
    [TestCase("%' OR id LIKE '%")]
    [TestCase("\\'; DELETE FROM sessions WHERE 1=1; --")]
    [TestCase("\0")]
    public async Task SqlInjectionShapedTokens_AreInert(string token)
    {
        await using var host = await TestHost.StartAsync(o => o.MaxFailedSessionAttempts = 100);
        var victim = await host.LoginAsync("victim");

        using var client = await host.ConnectAsync();
        var reply = await client.RequestAsync("session", "s", new { sessionId = token });
        Assert.That(reply.Status(), Is.EqualTo("invalid"));
        Assert.That(await host.HandshakeStatusAsync(bearer: Uri.EscapeDataString(token)), Is.EqualTo(HttpStatusCode.SwitchingProtocols), "opens unbound");
        Assert.That((await host.Sessions.ValidateAsync(token)).Status, Is.EqualTo(SessionStatus.Invalid));
        Assert.That(await host.Sessions.DeleteAsync(token), Is.False);
        Assert.That(await host.Sessions.DeleteUserSessionsAsync(token), Is.Zero);

        Assert.That((await host.Sessions.ValidateAsync(victim.Token)).Status, Is.EqualTo(SessionStatus.Valid), "the table is intact");
        Assert.That((await client.RequestAsync("whoami", "w")).ErrorCode(), Is.EqualTo("unauthorized"));
    }

    [Test]
    public async Task BruteForce_FailedAttemptLimitClosesEachSocket_NoGuessBinds()
    {
        await using var host = await TestHost.StartAsync(o => o.RateLimit.MessagesPerSecond = 0);
        await host.LoginAsync("victim");
        var attempts = 0;
        var closes = new ConcurrentQueue<(System.Net.WebSockets.WebSocketCloseStatus?, string?)>();

        // 40 attackers in a loop, each guessing until the server closes it: none gets more than 5 guesses.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(async a =>
        {
            using var client = await host.ConnectAsync();
            for (var i = 0; i < 100; i++)
            {
                var guess = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                await client.SendAsync("session", $"{a}-{i}", new { sessionId = guess });
                var text = await client.ReceiveRawAsync(TestClient.DefaultTimeout);
                if (text is null)
                {
                    break;
                }

                Interlocked.Increment(ref attempts);
                Assert.That(text, Does.Contain("\"invalid\""));
            }

            closes.Enqueue((client.Socket.CloseStatus, client.Socket.CloseStatusDescription));
        }));

        Assert.That(attempts, Is.EqualTo(40 * 5), "exactly MaxFailedSessionAttempts answers per connection");
        Assert.That(closes, Has.All.EqualTo(((System.Net.WebSockets.WebSocketCloseStatus?)System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, "too many failed session attempts")));
        await host.AssertRegistryEmptyAsync();
    }

    [Test]
    public async Task Flood_IsRateLimitedPerConnection_NeighbourUnaffected_SustainedFloodCloses()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.SessionMode = SessionMode.Optional;
            o.RateLimit.MessagesPerSecond = 50;
            o.RateLimit.Burst = 50;
        });
        using var flooder = await host.ConnectAsync();
        using var neighbour = await host.ConnectAsync();

        // A burst of 400 at once, then about 400/s against a limit of 50/s, while everything is read in the background.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var reading = flooder.ReceiveUntilCloseAsync();
        for (var i = 0; i < 4400 && !reading.IsCompleted; i++)
        {
            try
            {
                await flooder.SendAsync("ping", $"f{i}");
            }
            catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
            {
                break;
            }

            if (i >= 400 && i % 20 == 19)
            {
                await Task.Delay(50);
            }
        }

        var messages = await reading;
        var elapsed = started.Elapsed.TotalSeconds;
        var answered = messages.Count(m => m.Str("type") == "ping");
        var limited = messages.Count(m => m.ErrorCode() == "rate_limited");

        // The neighbour's own budget is untouched: a burst of 50 is answered in full.
        for (var i = 0; i < 50; i++)
        {
            await neighbour.SendAsync("ping", $"n{i}");
        }

        for (var i = 0; i < 50; i++)
        {
            Assert.That((await neighbour.ReceiveAsync()).Str("id"), Is.EqualTo($"n{i}"));
        }

        TestContext.Out.WriteLine($"flood: {answered} answered, {limited} rate_limited, closed '{flooder.Socket.CloseStatusDescription}' after {elapsed:F2} s");
        Assert.That(messages.Where(m => m.Str("type") != "session"), Has.All.Matches<System.Text.Json.JsonElement>(m => m.Str("type") == "ping" || m.ErrorCode() == "rate_limited"));
        Assert.That(answered, Is.InRange(50, 50 + (int)Math.Ceiling(50 * elapsed) + 1), "the burst plus the refill, no more");
        Assert.That(limited, Is.GreaterThan(0));
        Assert.That(flooder.Socket.CloseStatus, Is.EqualTo(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation));
        Assert.That(flooder.Socket.CloseStatusDescription, Is.EqualTo("rate limit"), "closed for its rate, not as a slow consumer");
        Assert.That((await neighbour.RequestAsync("ping", "after")).Str("id"), Is.EqualTo("after"));
    }

    [Test]
    public async Task BurstOfValidMessages_FromAReadingClient_IsAnsweredInFull_NotTakenForASlowConsumer()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.SessionMode = SessionMode.Optional;
            o.RateLimit.MessagesPerSecond = 0;
            o.MaxQueuedMessages = 16;
        });
        using var client = await host.ConnectAsync();

        var frames = Enumerable.Range(0, 2000).Select(i => Encoding.UTF8.GetBytes($$"""{"type":"ping","id":"b{{i}}"}""")).ToArray();
        var reading = Task.Run(async () =>
        {
            for (var i = 0; i < frames.Length; i++)
            {
                Assert.That((await client.ReceiveAsync()).Str("id"), Is.EqualTo($"b{i}"));
            }
        });
        foreach (var frame in frames)
        {
            await client.SendBytesAsync(frame);
        }

        await reading;
        Assert.That(host.Logs.Count(1004), Is.Zero, "no overflow close");
    }

    [Test]
    public async Task CrossSession_DirectMessagesReachOnlyTheirSession_RevokedGetsNothingAfterThePush()
    {
        await using var host = await TestHost.StartAsync();
        var hub = host.Services.GetRequiredService<ISocketHub>();
        var alice = await host.LoginAsync("alice");
        var alice2 = await host.LoginAsync("alice");
        var bob = await host.LoginAsync("bob");
        using var a = await host.ConnectAsync(bearer: alice.Token);
        using var a2 = await host.ConnectAsync(bearer: alice2.Token);
        using var b = await host.ConnectAsync(bearer: bob.Token);
        using var anonymous = await host.ConnectAsync();

        for (var i = 0; i < 50; i++)
        {
            await hub.SendToSessionAsync(alice.Session.Id, "direct", new { to = "alice-1", i });
            await hub.SendToSessionAsync(bob.Session.Id, "direct", new { to = "bob", i });
        }

        // A marker after the direct messages: whatever came before it on each socket is all it will get.
        await hub.BroadcastAsync("marker", 0);
        await anonymous.SendAsync("ping", "marker");
        var toA = await UntilMarkerAsync(a, "marker");
        var toA2 = await UntilMarkerAsync(a2, "marker");
        var toB = await UntilMarkerAsync(b, "marker");
        var toAnonymous = await UntilMarkerAsync(anonymous, "ping");

        Assert.That(toA.Select(m => m.GetProperty("data").Str("to")).ToList(), Has.Count.EqualTo(50).And.All.EqualTo("alice-1"));
        Assert.That(toB.Select(m => m.GetProperty("data").Str("to")).ToList(), Has.Count.EqualTo(50).And.All.EqualTo("bob"));
        Assert.That(toA2, Is.Empty, "another session of the same user gets none of them");
        Assert.That(toAnonymous, Is.Empty);

        // Revoked: the push, then the close, and nothing else, although messages keep coming for the session.
        // 120 messages stay below the 256-message send queue even if none is written out yet: an overflow would
        // (rightly) close the socket as a slow consumer before the revocation, which is not what this test is about.
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                await hub.SendToSessionAsync(bob.Session.Id, "late", i);
                await hub.BroadcastAsync("late", i);
            }
        });
        await host.Sessions.DeleteAsync(bob.Token);
        await sending;
        var afterRevocation = await b.ReceiveUntilCloseAsync();
        var push = afterRevocation.FindIndex(m => m.Str("type") == "session");
        Assert.That(push, Is.GreaterThanOrEqualTo(0), "the revocation push arrived");
        Assert.That(afterRevocation[push].Status(), Is.EqualTo("revoked"));
        Assert.That(push, Is.EqualTo(afterRevocation.Count - 1), "nothing after the revocation push");
        Assert.That(b.Socket.CloseStatusDescription, Is.EqualTo("session revoked"));
    }

    private static async Task<List<System.Text.Json.JsonElement>> UntilMarkerAsync(TestClient client, string markerType)
    {
        var messages = new List<System.Text.Json.JsonElement>();
        for (var i = 0; i < 1000; i++)
        {
            var message = await client.ReceiveAsync();
            if (message.Str("type") == markerType)
            {
                return messages;
            }

            messages.Add(message);
        }

        Assert.Fail("no marker");
        return messages;
    }
}
