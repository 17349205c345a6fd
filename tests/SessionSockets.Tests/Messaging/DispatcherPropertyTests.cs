using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Protocol;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Messaging;

/// <summary>
/// Random envelopes (random <c>type</c>, <c>id</c> and <c>data</c> shapes, extra and duplicate properties) through the
/// real dispatcher, compared with an oracle written from PROTOCOL.md sections 3 and 4.
/// </summary>
public class DispatcherPropertyTests
{
    private static readonly Gen<string> TypeJson = Gen.OneOf(
        Gen.Const("\"p.echo\""),
        Gen.Const("\"ping\""),
        Gen.Const("\"needs.session\""),
        Gen.Char["a-zA-Z0-9._:-"].Array[1, 64].Select(c => "\"" + new string(c) + "\""),   // valid, almost always unknown
        Gen.Char["a-z"].Array[65, 80].Select(c => "\"" + new string(c) + "\""),            // too long
        Gen.OneOf(Gen.Const("\"\""), Gen.Const("\"a b\""), Gen.Const("\"é\""), Gen.Const("\"a/b\""), Gen.Const("\"\\u0000\"")),
        Gen.OneOf(Gen.Const("1"), Gen.Const("null"), Gen.Const("true"), Gen.Const("[]"), Gen.Const("{}")));

    private static readonly Gen<string> IdJson = Gen.OneOf(
        Gen.Char["a-zA-Z0-9"].Array[0, 128].Select(c => "\"" + new string(c) + "\""),
        Gen.Char["a-z"].Array[129, 140].Select(c => "\"" + new string(c) + "\""),
        Gen.OneOf(Gen.Const("7"), Gen.Const("null"), Gen.Const("[\"x\"]"), Gen.Const("\"\\u00e9\\n\"")));

    private static readonly Gen<string> DataJson = Gen.OneOf(
        Gen.Const("null"), Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Gen.Const("1e400"),
        Gen.Const("-0.0"), Gen.String[0, 20].Select(s => JsonSerializer.Serialize(s)), Gen.Const("{\"a\":[1,{\"b\":null}]}"),
        Gen.Int[1, 30].Select(n => new string('[', n) + new string(']', n)), Gen.Const("{\"a\":1,\"a\":2}"));

    /// <summary>An object with optional (possibly repeated) type/id/data and extra properties, in random order.</summary>
    private static readonly Gen<(string Json, string[] Types, string[] Ids, string[] Datas)> Envelope =
        Gen.Select(TypeJson.Array[0, 2], IdJson.Array[0, 2], DataJson.Array[0, 2], Gen.Int[0, 2], Gen.Int)
            .Select((types, ids, datas, extras, seed) =>
            {
                var members = types.Select(t => "\"type\":" + t)
                    .Concat(ids.Select(i => "\"id\":" + i))
                    .Concat(datas.Select(d => "\"data\":" + d))
                    .Concat(Enumerable.Range(0, extras).Select(e => $"\"Type{e}\":{{\"type\":\"x\"}}"))
                    .OrderBy(_ => new Random(seed).Next())
                    .ToArray();
                return ("{" + string.Join(",", members) + "}", types, ids, datas);
            });

    /// <summary>What PROTOCOL.md says the answer is: an error code or the reply's type, and the id it carries.</summary>
    private static (string Answer, string? Id) Expected(string[] types, string[] ids, string[] datas)
    {
        static string? Str(string json) => JsonDocument.Parse(json).RootElement is { ValueKind: JsonValueKind.String } e ? e.GetString() : null;

        var id = ids.Length == 1 && Str(ids[0]) is { Length: <= 128 } s ? s : null;
        var idInvalid = ids.Length > 1 || (ids.Length == 1 && id is null);
        var type = types.Length == 1 ? Str(types[0]) : null;
        var typeValid = type is not null && MessageTypes.IsValid(type);
        if (idInvalid)
        {
            return ("invalid_message", null);
        }

        if (!typeValid || datas.Length > 1)
        {
            return ("invalid_message", id);
        }

        return type switch
        {
            "p.echo" => ("p.echo", id),
            "ping" => ("ping", id),
            "needs.session" => ("unauthorized", id),
            _ => ("unknown_type", id),
        };
    }

    [Test]
    public async Task RandomEnvelopes_ThroughTheDispatcher_AreAnsweredAsTheProtocolSays()
    {
        await using var host = await SocketTestHost.StartAsync(
            b => b
                .MapMessage("p.echo", (context, ct) => context.ReplyRawAsync(context.Data, ct), SessionRequirement.Optional)
                .MapMessage("needs.session", (context, ct) => context.ReplyAsync(1, ct), SessionRequirement.Required),
            o =>
            {
                o.SessionMode = SessionMode.Optional;
                o.RateLimit.MessagesPerSecond = 0;
            });
        var socket = await host.ConnectAsync();
        var samples = new List<(string Json, string[] Types, string[] Ids, string[] Datas)>();
        Envelope.Sample(e => samples.Add(e), iter: 1500, threads: 1);

        var previous = string.Empty;
        foreach (var (json, types, ids, datas) in samples)
        {
            var (answer, id) = Expected(types, ids, datas);
            var reply = await socket.RequestRawAsync(json);
            var got = reply.GetProperty("type").GetString() == "error" ? reply.GetProperty("data").GetProperty("code").GetString() : reply.GetProperty("type").GetString();
            var gotId = reply.TryGetProperty("id", out var i) ? i.GetString() : null;
            Assert.That((got, gotId), Is.EqualTo((answer, id)), json + " -> " + reply + " (after " + previous + ")");
            previous = json;
            if (answer == "p.echo")
            {
                var sent = datas.Length == 1 ? datas[0] : "null"; // no data is echoed as null
                var echoed = reply.TryGetProperty("data", out var d) ? d.GetRawText() : "null";
                Assert.That(echoed, Is.EqualTo(sent), "the echo carries data byte for byte: " + json);
            }
        }
    }
}

internal static class RawRequests
{
    public static async Task<JsonElement> RequestRawAsync(this TestClient socket, string json)
    {
        await socket.SendTextAsync(json);
        return await socket.ReceiveAsync();
    }
}
