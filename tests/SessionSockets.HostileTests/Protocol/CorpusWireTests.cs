using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using SessionSockets.HostileTests.Support;

namespace SessionSockets.HostileTests.Protocol;

/// <summary>
/// A corpus of malformed and awkward messages, 10,000 in all, sent over real sockets from 40 connections at once.
/// Every one is answered with its documented error (counted by code) or reply, a valid message is answered after
/// each, no connection closes, and the server logs no fault.
/// </summary>
[NonParallelizable]
public class CorpusWireTests
{
    private const int Connections = 40;
    private const int MessagesPerConnection = 250;

    public sealed record Typed(int N);

    /// <summary>One kind of message: its text (with <c>{ID}</c> for a fresh id), the error code or reply type it gets, whether the answer carries the id.</summary>
    public sealed record Kind(string Name, string Text, string Expect, bool CarriesId);

    public static readonly Kind[] Corpus =
    [
        new("empty", "", "invalid_json", false),
        new("whitespace", " \r\n\t ", "invalid_json", false),
        new("not json", "hello there", "invalid_json", false),
        new("array", """[{"type":"ping","id":"{ID}"}]""", "invalid_json", false),
        new("number", "42", "invalid_json", false),
        new("null", "null", "invalid_json", false),
        new("string", "\"ping\"", "invalid_json", false),
        new("truncated", """{"type":"ping","id":"{ID}" """, "invalid_json", false),
        new("trailing garbage", """{"type":"ping","id":"{ID}"}x""", "invalid_json", false),
        new("two objects", """{"type":"ping","id":"{ID}"}{}""", "invalid_json", false),
        new("trailing comma", """{"type":"ping","id":"{ID}",}""", "invalid_json", false),
        new("comment", """{"type":"ping","id":"{ID}" /* hi */}""", "invalid_json", false),
        new("single quotes", "{'type':'ping','id':'{ID}'}", "invalid_json", false),
        new("unquoted key", """{type:"ping","id":"{ID}"}""", "invalid_json", false),
        new("raw control char", "{\"type\":\"ping\",\"id\":\"a\u0001b\"}", "invalid_json", false),
        new("lone surrogate id", """{"type":"ping","id":"\uD800"}""", "invalid_json", false),
        new("missing value", """{"type":"ping","id":"{ID}","data":}""", "invalid_json", false),
        new("nesting 65", """{"type":"public.echo","id":"{ID}","data":""" + new string('[', 65) + new string(']', 65) + "}", "invalid_json", false),
        new("type missing", """{"id":"{ID}","data":1}""", "invalid_message", true),
        new("type wrong case", """{"Type":"ping","id":"{ID}"}""", "invalid_message", true),
        new("type number", """{"type":42,"id":"{ID}"}""", "invalid_message", true),
        new("type null", """{"type":null,"id":"{ID}"}""", "invalid_message", true),
        new("type empty", """{"type":"","id":"{ID}"}""", "invalid_message", true),
        new("type space", """{"type":"a b","id":"{ID}"}""", "invalid_message", true),
        new("type slash", """{"type":"../etc/passwd","id":"{ID}"}""", "invalid_message", true),
        new("type 65 chars", "{\"type\":\"" + new string('t', 65) + "\",\"id\":\"{ID}\"}", "invalid_message", true),
        new("type object", """{"type":{"$ne":null},"id":"{ID}"}""", "invalid_message", true),
        new("type twice", """{"type":"ping","type":"ping","id":"{ID}"}""", "invalid_message", true),
        new("data twice", """{"type":"ping","id":"{ID}","data":1,"data":2}""", "invalid_message", true),
        new("id number", """{"type":"ping","id":5}""", "invalid_message", false),
        new("id 129 chars", "{\"type\":\"ping\",\"id\":\"" + new string('i', 129) + "\"}", "invalid_message", false),
        new("id twice", """{"type":"ping","id":"{ID}","id":"{ID}"}""", "invalid_message", false),
        new("unknown type", """{"type":"chat.sned","id":"{ID}"}""", "unknown_type", true),
        new("sql-shaped type", """{"type":"x';DROP_TABLE_sessions;--","id":"{ID}"}""", "invalid_message", true),
        new("needs session", """{"type":"private.echo","id":"{ID}","data":1}""", "unauthorized", true),
        new("data wrong shape", """{"type":"typed","id":"{ID}","data":{"n":"seven"}}""", "invalid_data", true),
        new("data missing", """{"type":"typed","id":"{ID}"}""", "invalid_data", true),
        new("data array", """{"type":"typed","id":"{ID}","data":[1,2]}""", "invalid_data", true),
        new("data huge number", """{"type":"typed","id":"{ID}","data":{"n":1e400}}""", "invalid_data", true),
        new("session data not object", """{"type":"session","id":"{ID}","data":"abc"}""", "session", true),
        new("byte order mark", "\uFEFF{\"type\":\"ping\",\"id\":\"{ID}\"}", "ping", true),
        new("nesting 63 echoed", """{"type":"public.echo","id":"{ID}","data":""" + new string('[', 63) + new string(']', 63) + "}", "public.echo", true),
        new("unknown properties", """{"type":"ping","id":"{ID}","__proto__":{"admin":true},"constructor":1}""", "ping", true),
        new("escaped type", """{"\u0074ype":"\u0070ing","id":"{ID}"}""", "ping", true),
    ];

    [Test]
    public async Task Corpus_10000MessagesFrom40Connections_EachAnsweredAsDocumented_NoCloseNoFault()
    {
        Assert.That(Corpus.Count(k => k.Expect is "invalid_json" or "invalid_message" or "unknown_type" or "unauthorized" or "invalid_data"), Is.GreaterThanOrEqualTo(20));
        await using var host = await TestHost.StartAsync(
            o =>
            {
                o.SessionMode = SessionMode.Optional;
                o.RateLimit.MessagesPerSecond = 0;
                o.MaxFailedSessionAttempts = 1000;
            },
            b => b.MapMessage<Typed>("typed", (context, data) => context.ReplyAsync(data), SessionRequirement.Optional));
        var byCode = new ConcurrentDictionary<string, int>();
        var answeredAfter = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();

        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async c =>
        {
            using var client = await host.ConnectAsync();
            for (var i = 0; i < MessagesPerConnection; i++)
            {
                var kind = Corpus[((c * 7) + i) % Corpus.Length];
                var id = $"c{c}-m{i}";
                await client.SendTextAsync(kind.Text.Replace("{ID}", id, StringComparison.Ordinal));
                var reply = await client.ReceiveAsync();
                var got = reply.ErrorCode() ?? reply.Str("type");
                if (got != kind.Expect || (kind.CarriesId ? reply.Str("id") != id : reply.TryGetProperty("id", out _)))
                {
                    failures.Enqueue($"{kind.Name}: {reply}");
                }

                if (reply.ErrorCode() is { } code)
                {
                    byCode.AddOrUpdate(code, 1, (_, n) => n + 1);
                    var message = reply.GetProperty("data").Str("message") ?? string.Empty;
                    if (message.Contains("Exception", StringComparison.Ordinal) || message.Contains("   at ", StringComparison.Ordinal) || message.Contains("SELECT", StringComparison.OrdinalIgnoreCase) || message.Contains("Data Source", StringComparison.Ordinal))
                    {
                        failures.Enqueue($"{kind.Name}: internals in '{message}'");
                    }
                }

                var pong = await client.RequestAsync("ping", "after-" + id);
                if (pong.Str("type") == "ping" && pong.Str("id") == "after-" + id)
                {
                    answeredAfter.AddOrUpdate(kind.Name, 1, (_, n) => n + 1);
                }
            }

            Assert.That(client.Socket.State, Is.EqualTo(System.Net.WebSockets.WebSocketState.Open), "no unexpected close");
            await client.CloseAsync();
        }));

        TestContext.Out.WriteLine("errors by code: " + JsonSerializer.Serialize(byCode.OrderBy(p => p.Key).ToDictionary()));
        Assert.That(failures, Is.Empty, string.Join("\n", failures.Take(20)));
        Assert.That(byCode.Values.Sum(), Is.GreaterThan(8000), "most of the corpus is errors");
        Assert.That(answeredAfter.Keys, Is.EquivalentTo(Corpus.Select(k => k.Name)), "a valid message was answered after every kind");
        Assert.That(answeredAfter.Values.Sum(), Is.EqualTo(Connections * MessagesPerConnection));
        Assert.That(host.Logs.Faults(), Is.Empty, string.Join("\n", host.Logs.Faults().Take(5)));
        await host.AssertRegistryEmptyAsync();
        Unobserved.AssertNone();
    }
}
