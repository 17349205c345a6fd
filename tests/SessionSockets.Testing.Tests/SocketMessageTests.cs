using System.Text.Json;

namespace SessionSockets.Testing.Tests;

public class SocketMessageTests
{
    [Test]
    public void Parse_ErrorReply_ExposesCodeAndMessage()
    {
        var message = SocketMessage.Parse("""{"type":"error","id":"7","data":{"code":"invalid_data","message":"'data' is required."}}""");

        Assert.Multiple(() =>
        {
            Assert.That(message.IsError, Is.True);
            Assert.That(message.Id, Is.EqualTo("7"));
            Assert.That(message.ErrorCode, Is.EqualTo("invalid_data"));
            Assert.That(message.ErrorMessage, Is.EqualTo("'data' is required."));
        });
    }

    [Test]
    public void Parse_PushWithoutData_HasNoIdAndUndefinedData()
    {
        var message = SocketMessage.Parse("""{"type":"tick"}""");

        Assert.Multiple(() =>
        {
            Assert.That(message.IsError, Is.False);
            Assert.That(message.ErrorCode, Is.Null);
            Assert.That(message.Id, Is.Null);
            Assert.That(message.Data.ValueKind, Is.EqualTo(JsonValueKind.Undefined));
            Assert.That(message.DataAs<object>(), Is.Null);
        });
    }

    [Test]
    public void DataAs_CamelCasePayload_BindsWithWebDefaults()
    {
        var message = SocketMessage.Parse("""{"type":"whoami","id":"1","data":{"userId":"alice","count":3}}""");

        Assert.That(message.DataAs<Who>(), Is.EqualTo(new Who("alice", 3)));
    }

    [TestCase("not json")]
    [TestCase("[1,2]")]
    [TestCase("""{"id":"1"}""")]
    public void Parse_NotAnEnvelope_ThrowsFormatException(string text) =>
        Assert.That(() => SocketMessage.Parse(text), Throws.InstanceOf<FormatException>());

    private sealed record Who(string UserId, int Count);
}
