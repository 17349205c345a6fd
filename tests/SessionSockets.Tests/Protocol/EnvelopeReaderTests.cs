using System.Text;
using CsCheck;
using SessionSockets.Protocol;

namespace SessionSockets.Tests.Protocol;

public class EnvelopeReaderTests
{
    private static Envelope Read(string json) => EnvelopeReader.Read(Encoding.UTF8.GetBytes(json));

    private static string TypeOf(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var envelope = EnvelopeReader.Read(bytes);
        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok), envelope.Error);
        return envelope.EscapedType ?? Encoding.UTF8.GetString(bytes, envelope.TypeStart, envelope.TypeLength);
    }

    private static string? DataOf(byte[] bytes)
    {
        var envelope = EnvelopeReader.Read(bytes);
        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok), envelope.Error);
        return envelope.HasData ? Encoding.UTF8.GetString(bytes, envelope.DataStart, envelope.DataLength) : null;
    }

    private static string? DataOf(string json) => DataOf(Encoding.UTF8.GetBytes(json));

    [TestCase("")]
    [TestCase(" ")]
    [TestCase(" \t\r\n ")]
    [TestCase("not json")]
    [TestCase("{")]
    [TestCase("{\"type\":")]
    [TestCase("{\"type\":\"a\"")]
    [TestCase("{'type':'a'}")]
    [TestCase("{type:\"a\"}")]
    [TestCase("[]")]
    [TestCase("[{\"type\":\"a\"}]")]
    [TestCase("\"type\"")]
    [TestCase("42")]
    [TestCase("null")]
    [TestCase("true")]
    [TestCase("[1,2")]
    public void Read_NotAJsonObject_IsInvalidJson(string json)
    {
        var envelope = Read(json);

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidJson));
        Assert.That(envelope.Id, Is.Null);
        Assert.That(envelope.Error, Is.Not.Empty);
    }

    [TestCase("{\"type\":\"a\"} x")]
    [TestCase("{\"type\":\"a\"}{}")]
    [TestCase("{\"type\":\"a\"}}")]
    [TestCase("{\"type\":\"a\"},")]
    [TestCase("{\"type\":\"a\"} null")]
    public void Read_TrailingGarbageAfterObject_IsInvalidJson(string json) =>
        Assert.That(Read(json).Status, Is.EqualTo(EnvelopeStatus.InvalidJson));

    [Test]
    public void Read_TrailingWhitespaceAfterObject_IsOk() =>
        Assert.That(Read("{\"type\":\"a\"} \r\n\t ").Status, Is.EqualTo(EnvelopeStatus.Ok));

    [TestCase("{\"type\":\"a\" /* c */}")]
    [TestCase("{\"type\":\"a\" // c\n}")]
    [TestCase("// c\n{\"type\":\"a\"}")]
    [TestCase("{\"type\":\"a\"} /* c */")]
    public void Read_Comments_IsInvalidJson(string json) =>
        Assert.That(Read(json).Status, Is.EqualTo(EnvelopeStatus.InvalidJson));

    [TestCase("{\"type\":\"a\",}")]
    [TestCase("{\"type\":\"a\",\"data\":[1,]}")]
    [TestCase("{\"type\":\"a\",\"data\":{\"x\":1,}}")]
    public void Read_TrailingCommas_IsInvalidJson(string json) =>
        Assert.That(Read(json).Status, Is.EqualTo(EnvelopeStatus.InvalidJson));

    [Test]
    public void Read_Utf8ByteOrderMark_IsToleratedAndSpansIndexTheOriginalBuffer()
    {
        var bytes = Encoding.UTF8.Preamble.ToArray().Concat(Encoding.UTF8.GetBytes("{\"type\":\"chat.send\",\"data\":{\"a\":1}}")).ToArray();

        var envelope = EnvelopeReader.Read(bytes);

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok));
        Assert.That(Encoding.UTF8.GetString(bytes, envelope.TypeStart, envelope.TypeLength), Is.EqualTo("chat.send"));
        Assert.That(DataOf(bytes), Is.EqualTo("{\"a\":1}"));
    }

    [Test]
    public void Read_OnlyAByteOrderMark_IsInvalidJson() =>
        Assert.That(EnvelopeReader.Read(Encoding.UTF8.Preamble).Status, Is.EqualTo(EnvelopeStatus.InvalidJson));

    [Test]
    public void Read_NestingDepthOf64_IsOk()
    {
        // The envelope object is depth 1; 63 arrays inside it reach depth 64.
        var json = "{\"type\":\"a\",\"data\":" + new string('[', 63) + new string(']', 63) + "}";

        Assert.That(Read(json).Status, Is.EqualTo(EnvelopeStatus.Ok));
    }

    [TestCase(64)]
    [TestCase(100_000)]
    public void Read_NestingBeyond64_IsInvalidJson(int arrays)
    {
        var json = "{\"type\":\"a\",\"data\":" + new string('[', arrays) + new string(']', arrays) + "}";

        Assert.That(Read(json).Status, Is.EqualTo(EnvelopeStatus.InvalidJson));
    }

    [Test]
    public void Read_DeeplyNestedNonObject_IsInvalidJson() =>
        Assert.That(Read(new string('[', 100_000)).Status, Is.EqualTo(EnvelopeStatus.InvalidJson));

    [TestCase("{}")]
    [TestCase("{\"data\":{}}")]
    [TestCase("{\"Type\":\"a\"}")]
    [TestCase("{\"TYPE\":\"a\"}")]
    [TestCase("{\"type \":\"a\"}")]
    public void Read_TypeMissing_IsInvalidMessage(string json)
    {
        var envelope = Read(json);

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));
        Assert.That(envelope.Error, Does.Contain("type"));
    }

    [TestCase("1")]
    [TestCase("null")]
    [TestCase("true")]
    [TestCase("{}")]
    [TestCase("[\"a\"]")]
    [TestCase("\"\"")]
    [TestCase("\"a b\"")]
    [TestCase("\"a/b\"")]
    [TestCase("\"chat+send\"")]
    [TestCase("\"caf\u00e9\"")]
    [TestCase("\"\u0430\"")]
    [TestCase("\"a\\u0020b\"")]
    [TestCase("\"a\\nb\"")]
    [TestCase("\"a\\u00e9\"")]
    [TestCase("\"\\u0000\"")]
    public void Read_TypeMalformed_IsInvalidMessage(string type)
    {
        var envelope = Read("{\"type\":" + type + "}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));
        Assert.That(envelope.Error, Does.Contain("type"));
        Assert.That(envelope.TypeLength, Is.Zero);
        Assert.That(envelope.EscapedType, Is.Null);
    }

    [Test]
    public void Read_Type65Characters_IsInvalidMessage() =>
        Assert.That(Read("{\"type\":\"" + new string('a', 65) + "\"}").Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));

    [Test]
    public void Read_Type64Characters_IsOk()
    {
        var type = new string('a', 64);

        Assert.That(TypeOf("{\"type\":\"" + type + "\"}"), Is.EqualTo(type));
    }

    [Test]
    public void Read_Type65CharactersEscaped_IsInvalidMessage() =>
        Assert.That(Read("{\"type\":\"" + string.Concat(Enumerable.Repeat("\\u0061", 65)) + "\"}").Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));

    [TestCase("a")]
    [TestCase("Z")]
    [TestCase("0")]
    [TestCase("chat.send")]
    [TestCase("a_b:c-d.E9")]
    [TestCase("...")]
    public void Read_TypeAllowedCharacters_IsOk(string type) =>
        Assert.That(TypeOf("{\"type\":\"" + type + "\"}"), Is.EqualTo(type));

    [Test]
    public void Read_TypeEscapedButValid_IsOkWithUnescapedType()
    {
        var envelope = Read("{\"type\":\"chat\\u002Esend\"}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok));
        Assert.That(envelope.EscapedType, Is.EqualTo("chat.send"));
    }

    [Test]
    public void Read_PropertyNameEscaped_MatchesByItsValue() =>
        Assert.That(TypeOf("{\"\\u0074ype\":\"ping\"}"), Is.EqualTo("ping"));

    [Test]
    public void Read_TypeAfterOtherProperties_IsFound() =>
        Assert.That(TypeOf("{\"data\":{\"type\":\"inner\"},\"x\":[{\"type\":\"no\"}],\"type\":\"outer\"}"), Is.EqualTo("outer"));

    [Test]
    public void Read_IdAbsent_IsNull() =>
        Assert.That(Read("{\"type\":\"a\"}").Id, Is.Null);

    [TestCase("")]
    [TestCase("42")]
    [TestCase("a b \u00e9 \U0001F600")]
    public void Read_IdString_IsCarried(string id)
    {
        var envelope = Read("{\"type\":\"a\",\"id\":\"" + id + "\"}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok));
        Assert.That(envelope.Id, Is.EqualTo(id));
    }

    [Test]
    public void Read_IdEscaped_IsUnescaped() =>
        Assert.That(Read("{\"type\":\"a\",\"id\":\"q\\\"\\\\\\n\\u0041\"}").Id, Is.EqualTo("q\"\\\nA"));

    [Test]
    public void Read_IdExactly128Characters_IsOk()
    {
        var id = new string('x', 128);

        var envelope = Read("{\"type\":\"a\",\"id\":\"" + id + "\"}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok));
        Assert.That(envelope.Id, Is.EqualTo(id));
    }

    [Test]
    public void Read_Id128CharactersAllEscaped_IsOk()
    {
        var envelope = Read("{\"type\":\"a\",\"id\":\"" + string.Concat(Enumerable.Repeat("\\u0041", 128)) + "\"}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok));
        Assert.That(envelope.Id, Is.EqualTo(new string('A', 128)));
    }

    [TestCase(129)]
    [TestCase(100_000)]
    public void Read_IdLongerThan128Characters_IsInvalidMessageWithoutId(int length)
    {
        var envelope = Read("{\"type\":\"a\",\"id\":\"" + new string('x', length) + "\"}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));
        Assert.That(envelope.Id, Is.Null);
        Assert.That(envelope.Error, Does.Contain("id"));
    }

    [Test]
    public void Read_Id129CharactersEscaped_IsInvalidMessage() =>
        Assert.That(Read("{\"type\":\"a\",\"id\":\"" + string.Concat(Enumerable.Repeat("\\u0041", 129)) + "\"}").Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));

    [TestCase("42")]
    [TestCase("null")]
    [TestCase("true")]
    [TestCase("{}")]
    [TestCase("[\"1\"]")]
    public void Read_IdNotAString_IsInvalidMessageWithoutId(string id)
    {
        var envelope = Read("{\"type\":\"a\",\"id\":" + id + "}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));
        Assert.That(envelope.Id, Is.Null);
        Assert.That(envelope.Error, Does.Contain("id"));
    }

    [TestCase("{\"type\":\"a\",\"type\":\"a\"}", "type")]
    [TestCase("{\"type\":\"a\",\"type\":\"b\"}", "type")]
    [TestCase("{\"type\":1,\"type\":\"b\"}", "type")]
    [TestCase("{\"type\":\"a\",\"\\u0074ype\":\"b\"}", "type")]
    [TestCase("{\"type\":\"a\",\"id\":\"1\",\"id\":\"1\"}", "id")]
    [TestCase("{\"type\":\"a\",\"data\":1,\"data\":2}", "data")]
    [TestCase("{\"type\":\"a\",\"data\":null,\"data\":null}", "data")]
    public void Read_DuplicateKey_IsInvalidMessage(string json, string key)
    {
        var envelope = Read(json);

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));
        Assert.That(envelope.Error, Does.Contain(key));
    }

    [Test]
    public void Read_DuplicateId_CarriesNoId() =>
        Assert.That(Read("{\"type\":\"a\",\"id\":\"1\",\"id\":\"2\"}").Id, Is.Null);

    [TestCase("{\"id\":\"7\"}")]
    [TestCase("{\"id\":\"7\",\"type\":5}")]
    [TestCase("{\"type\":5,\"id\":\"7\"}")]
    [TestCase("{\"type\":\"a b\",\"id\":\"7\"}")]
    [TestCase("{\"type\":\"a\",\"type\":\"a\",\"id\":\"7\"}")]
    [TestCase("{\"id\":\"7\",\"type\":\"a\",\"data\":1,\"data\":2}")]
    public void Read_InvalidMessageWithValidId_CarriesTheId(string json)
    {
        var envelope = Read(json);

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidMessage));
        Assert.That(envelope.Id, Is.EqualTo("7"));
    }

    [Test]
    public void Read_InvalidMessage_HasNoData() =>
        Assert.That(Read("{\"type\":5,\"data\":{\"a\":1}}").HasData, Is.False);

    [Test]
    public void Read_PropertyNamesAreCaseSensitive_OtherCasingsAreIgnored()
    {
        var envelope = Read("{\"type\":\"a\",\"ID\":5,\"Id\":\"x\",\"Data\":{\"a\":1},\"DATA\":[1]}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok));
        Assert.That(envelope.Id, Is.Null);
        Assert.That(envelope.HasData, Is.False);
    }

    [Test]
    public void Read_UnknownTopLevelProperties_AreIgnored()
    {
        var envelope = Read("{\"v\":1,\"type\":\"a\",\"extra\":{\"type\":[1,{\"id\":2}]},\"id\":\"9\",\"n\":null,\"s\":\"\\u0000\"}");

        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.Ok));
        Assert.That(envelope.Id, Is.EqualTo("9"));
    }

    [TestCase("{\"a\":1}")]
    [TestCase("{ \"a\" : [ 1 , 2 ] }")]
    [TestCase("[]")]
    [TestCase("[1,\"2\",null]")]
    [TestCase("\"text\"")]
    [TestCase("\"\"")]
    [TestCase("\"q\\\"\\u00e9\"")]
    [TestCase("0")]
    [TestCase("-1.5e-3")]
    [TestCase("true")]
    [TestCase("false")]
    [TestCase("{}")]
    public void Read_DataAnyJsonValue_IsTheExactRawSpan(string data)
    {
        Assert.That(DataOf("{\"type\":\"a\",\"data\":" + data + "}"), Is.EqualTo(data));
        Assert.That(DataOf("{ \"data\" :\t" + data + " \n, \"type\":\"a\"}"), Is.EqualTo(data));
    }

    [Test]
    public void Read_DataNull_IsTreatedAsAbsent()
    {
        Assert.That(DataOf("{\"type\":\"a\",\"data\":null}"), Is.Null);
        Assert.That(DataOf("{\"type\":\"a\"}"), Is.Null);
    }

    [Test]
    public void Read_HugeNumbersInData_ArePassedThrough()
    {
        const string data = "{\"big\":123456789012345678901234567890123456789e999999,\"neg\":-0.000000000000000000000000000001}";

        Assert.That(DataOf("{\"type\":\"a\",\"data\":" + data + "}"), Is.EqualTo(data));
    }

    [Test]
    public void Read_NonAsciiInData_SpanCountsBytes()
    {
        const string data = "{\"t\":\"\u00e9\u4e2d\U0001F600\"}";

        Assert.That(DataOf("{\"id\":\"\u00e9\",\"type\":\"a\",\"data\":" + data + "}"), Is.EqualTo(data));
    }

    [Test]
    public void Read_InvalidUtf8InAString_IsInvalidJsonNotAnException()
    {
        byte[] bytes = [.. "{\"type\":\"a\",\"id\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        var envelope = default(Envelope);

        Assert.That(() => envelope = EnvelopeReader.Read(bytes), Throws.Nothing);
        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidJson));
    }

    [TestCase("{\"type\":\"a\",\"id\":\"\\uD800\"}")]
    [TestCase("{\"type\":\"a\",\"id\":\"\\uDC00x\"}")]
    [TestCase("{\"type\":\"\\uD800\"}")]
    [TestCase("{\"type\":\"a\\uD83D\"}")]
    [TestCase("{\"\\uD800\":1,\"type\":\"a\"}")]
    public void Read_EscapedLoneSurrogate_IsInvalidJsonNotAnException(string json)
    {
        var envelope = default(Envelope);

        Assert.That(() => envelope = Read(json), Throws.Nothing);
        Assert.That(envelope.Status, Is.EqualTo(EnvelopeStatus.InvalidJson));
    }

    [Test]
    public void Read_RandomBytes_NeverThrowsAndClassifiesConsistently()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var envelope = EnvelopeReader.Read(bytes);
            AssertConsistent(bytes, envelope);
        }, iter: 20_000);
    }

    [Test]
    public void Read_RandomJsonLikeText_NeverThrowsAndClassifiesConsistently()
    {
        // Fragments of envelopes shuffled together reach the interesting states far more often than random bytes.
        var fragment = Gen.OneOf(
            "{", "}", "[", "]", ",", ":", " ", "\"type\"", "\"id\"", "\"data\"", "\"Type\"", "\"x\"", "\"a\"", "\"ping\"",
            "\"a b\"", "1", "-2.5e9", "null", "true", "\"\\u0041\"", "\"\\uD800\"", "\"\\\"\"", "/*c*/", "\uFEFF", "\u00e9", "\"");
        fragment.Array[0, 24].Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts))).Sample(bytes =>
        {
            var envelope = EnvelopeReader.Read(bytes);
            AssertConsistent(bytes, envelope);
        }, iter: 50_000);
    }

    private static void AssertConsistent(byte[] bytes, Envelope envelope)
    {
        if (!Enum.IsDefined(envelope.Status))
        {
            throw new AssertionException($"Unknown status {envelope.Status}.");
        }

        if (envelope.Status == EnvelopeStatus.Ok)
        {
            var type = envelope.EscapedType ?? Encoding.UTF8.GetString(bytes, envelope.TypeStart, envelope.TypeLength);
            if (!SessionSockets.MessageTypes.IsValid(type) || envelope.Error is not null || (envelope.Id?.Length ?? 0) > 128)
            {
                throw new AssertionException($"Ok envelope with type '{type}', id '{envelope.Id}'.");
            }

            if (envelope.HasData)
            {
                using var _ = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(envelope.DataStart, envelope.DataLength));
            }
        }
        else if (string.IsNullOrEmpty(envelope.Error) || envelope.HasData || envelope.TypeLength != 0 || envelope.EscapedType is not null)
        {
            throw new AssertionException($"{envelope.Status} envelope with leftovers.");
        }
        else if (envelope.Status == EnvelopeStatus.InvalidJson && envelope.Id is not null)
        {
            throw new AssertionException("invalid_json carries an id.");
        }
    }
}
