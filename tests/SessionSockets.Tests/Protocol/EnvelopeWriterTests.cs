using System.Text;
using System.Text.Json;
using SessionSockets.Protocol;

namespace SessionSockets.Tests.Protocol;

public class EnvelopeWriterTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static JsonElement Parse(byte[] utf8)
    {
        using var document = JsonDocument.Parse(utf8);
        return document.RootElement.Clone();
    }

    private static string[] Names(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    [Test]
    public void Write_WithId_HasExactlyTypeIdAndData()
    {
        var json = Parse(EnvelopeWriter.Write("chat.send", "42", new { Text = "hi", Count = 2 }, Web));

        Assert.That(Names(json), Is.EqualTo(new[] { "type", "id", "data" }));
        Assert.That(json.GetProperty("type").GetString(), Is.EqualTo("chat.send"));
        Assert.That(json.GetProperty("id").GetString(), Is.EqualTo("42"));
        Assert.That(Names(json.GetProperty("data")), Is.EqualTo(new[] { "text", "count" }), "the serializer options apply to data");
        Assert.That(json.GetProperty("data").GetProperty("count").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public void WriteWith_DataWrittenInTheFrame_AndANestedWriteOnTheSameThread_KeepsBothWhole()
    {
        byte[]? inner = null;
        var outer = EnvelopeWriter.WriteWith("session", "7", "alice <&>", (writer, user) =>
        {
            // A frame written while this thread's writer is rented must not share it.
            inner = EnvelopeWriter.WriteRaw("ping", "8", "{}"u8);
            writer.WriteStartObject();
            writer.WriteString("userId"u8, user);
            writer.WriteEndObject();
        });
        var next = EnvelopeWriter.WriteRaw("ping", "9", "{}"u8);

        Assert.That(Encoding.UTF8.GetString(outer), Is.EqualTo("{\"type\":\"session\",\"id\":\"7\",\"data\":{\"userId\":\"alice \\u003C\\u0026\\u003E\"}}"));
        Assert.That(Encoding.UTF8.GetString(inner!), Is.EqualTo("{\"type\":\"ping\",\"id\":\"8\",\"data\":{}}"));
        Assert.That(Encoding.UTF8.GetString(next), Is.EqualTo("{\"type\":\"ping\",\"id\":\"9\",\"data\":{}}"), "the returned writer is reused, and the frames before it are copies");
    }

    [Test]
    public void Write_WithoutId_HasNoIdProperty()
    {
        var json = Parse(EnvelopeWriter.Write("push", null, 5, Web));

        Assert.That(Names(json), Is.EqualTo(new[] { "type", "data" }));
        Assert.That(json.GetProperty("data").GetInt32(), Is.EqualTo(5));
    }

    [Test]
    public void Write_NullData_WritesDataNull()
    {
        var json = Parse(EnvelopeWriter.Write<object?>("a", "1", null, Web));

        Assert.That(json.GetProperty("data").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [TestCase("q\"uote")]
    [TestCase("back\\slash")]
    [TestCase("line\nbreak\r\t")]
    [TestCase("ctl\u0000\u0001\u001f")]
    [TestCase("caf\u00e9 \u4e2d \U0001F600")]
    [TestCase("</script><!--")]
    [TestCase("")]
    public void Write_StringsNeedingEscapes_RoundTrip(string text)
    {
        var bytes = EnvelopeWriter.Write("a", text, new { text }, Web);
        var json = Parse(bytes);

        Assert.That(json.GetProperty("id").GetString(), Is.EqualTo(text));
        Assert.That(json.GetProperty("data").GetProperty("text").GetString(), Is.EqualTo(text));
        Assert.That(bytes, Has.None.LessThan((byte)0x20), "control characters are escaped");
    }

    [Test]
    public void Write_Twice_ReturnsIndependentArrays()
    {
        var first = EnvelopeWriter.Write("a", "1", new string('x', 100), Web);
        var copy = first.ToArray();

        var second = EnvelopeWriter.Write("b", "2", new string('y', 200_000), Web);
        _ = EnvelopeWriter.Write("c", "3", "z", Web);

        Assert.That(first, Is.EqualTo(copy));
        Assert.That(Parse(second).GetProperty("data").GetString(), Has.Length.EqualTo(200_000));
    }

    [Test]
    public void Write_AfterSerializerThrew_NextEnvelopeIsClean()
    {
        Assert.That(() => EnvelopeWriter.Write("a", "1", new Throwing(), Web), Throws.InstanceOf<InvalidOperationException>());

        var json = Parse(EnvelopeWriter.Write("b", "2", 1, Web));

        Assert.That(Names(json), Is.EqualTo(new[] { "type", "id", "data" }));
        Assert.That(json.GetProperty("type").GetString(), Is.EqualTo("b"));
    }

    [TestCase("{\"a\":[1,2,{\"b\":null}]}")]
    [TestCase("\"text\"")]
    [TestCase("123456789012345678901234567890e999")]
    [TestCase("{ \"spaced\" : true }")]
    public void WriteRaw_Data_IsPassedThroughVerbatim(string data)
    {
        var bytes = EnvelopeWriter.WriteRaw("echo", "7", Encoding.UTF8.GetBytes(data));

        Assert.That(Encoding.UTF8.GetString(bytes), Is.EqualTo("{\"type\":\"echo\",\"id\":\"7\",\"data\":" + data + "}"));
        Assert.That(() => Parse(bytes), Throws.Nothing);
    }

    [Test]
    public void WriteRaw_EmptyData_WritesNull() =>
        Assert.That(Encoding.UTF8.GetString(EnvelopeWriter.WriteRaw("session", null, default)), Is.EqualTo("{\"type\":\"session\",\"data\":null}"));

    [Test]
    public void WriteError_WithId_IsTheErrorEnvelope()
    {
        var json = Parse(EnvelopeWriter.WriteError("42", "unknown_type", "No handler for type 'x\"y'."));

        Assert.That(Names(json), Is.EqualTo(new[] { "type", "id", "data" }));
        Assert.That(json.GetProperty("type").GetString(), Is.EqualTo("error"));
        Assert.That(json.GetProperty("id").GetString(), Is.EqualTo("42"));
        Assert.That(Names(json.GetProperty("data")), Is.EqualTo(new[] { "code", "message" }));
        Assert.That(json.GetProperty("data").GetProperty("code").GetString(), Is.EqualTo("unknown_type"));
        Assert.That(json.GetProperty("data").GetProperty("message").GetString(), Is.EqualTo("No handler for type 'x\"y'."));
    }

    [Test]
    public void WriteError_WithoutId_HasNoIdProperty() =>
        Assert.That(Names(Parse(EnvelopeWriter.WriteError(null, "invalid_json", "m"))), Is.EqualTo(new[] { "type", "data" }));

    private sealed class Throwing
    {
        private readonly string _message = "boom";

        public int Value => throw new InvalidOperationException(_message);
    }
}
