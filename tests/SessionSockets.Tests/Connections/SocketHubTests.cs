using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;
using SessionSockets.Backplane;
using SessionSockets.Connections;
using SessionSockets.Protocol;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Connections;

public sealed class SocketHubTests
{
    private Mock<ISessionBackplane> _backplane = null!;
    private List<BackplaneMessage> _published = null!;
    private ConnectionRegistry _registry = null!;
    private SocketHub _hub = null!;

    [SetUp]
    public void SetUp()
    {
        _published = [];
        _backplane = new Mock<ISessionBackplane>(MockBehavior.Strict);
        _backplane.Setup(b => b.PublishAsync(It.IsAny<BackplaneMessage>(), It.IsAny<CancellationToken>()))
            .Callback<BackplaneMessage, CancellationToken>((message, _) => _published.Add(message))
            .Returns(ValueTask.CompletedTask);
        _registry = new ConnectionRegistry(TestSessions.Metrics());
        _hub = new SocketHub(_registry, _backplane.Object, TestSessions.Metrics(), Options.Create(new JsonOptions()));
    }

    [Test]
    public async Task SendToSessionAsync_AnyPayload_PublishesSendToSessionForThatSession()
    {
        await _hub.SendToSessionAsync("session-1", "note", new { text = "hi" });

        var message = _published.Single();
        Assert.Multiple(() =>
        {
            Assert.That(message.Kind, Is.EqualTo(BackplaneMessageKind.SendToSession));
            Assert.That(message.Target, Is.EqualTo("session-1"));
            Assert.That(Envelope(message), Is.EqualTo("""{"type":"note","data":{"text":"hi"}}"""));
        });
    }

    [Test]
    public async Task SendToUserAsync_AnyPayload_PublishesSendToUserForThatUser()
    {
        await _hub.SendToUserAsync("alice", "note", 42);

        var message = _published.Single();
        Assert.Multiple(() =>
        {
            Assert.That(message.Kind, Is.EqualTo(BackplaneMessageKind.SendToUser));
            Assert.That(message.Target, Is.EqualTo("alice"));
            Assert.That(Envelope(message), Is.EqualTo("""{"type":"note","data":42}"""));
        });
    }

    [Test]
    public async Task BroadcastAsync_AnyPayload_PublishesOneBroadcastWithoutTarget()
    {
        await _hub.BroadcastAsync("news", "hello");

        var message = _published.Single();
        Assert.Multiple(() =>
        {
            Assert.That(message.Kind, Is.EqualTo(BackplaneMessageKind.Broadcast));
            Assert.That(message.Target, Is.Null);
            Assert.That(Envelope(message), Is.EqualTo("""{"type":"news","data":"hello"}"""));
        });
    }

    [Test]
    public async Task BroadcastAsync_DeliveredToManyLocalConnections_SerialisesThePayloadOnce()
    {
        // The real in-process backplane and receiver, so the payload goes all the way to 50 bound connections.
        using var connections = new TestConnections();
        var receiver = connections.Services.GetRequiredService<BackplaneReceiver>();
        using var subscription = connections.Services.GetRequiredService<ISessionBackplane>().Subscribe(receiver.ReceiveAsync);
        for (var i = 0; i < 50; i++)
        {
            var connection = connections.Create();
            connections.Registry.Add(connection);
            connection.Bind(connections.Session("token-" + i, "user-" + i));
        }

        var data = new Counted();
        await connections.Services.GetRequiredService<SocketHub>().BroadcastAsync("news", data);

        Assert.That(data.Writes, Is.EqualTo(1));
    }

    [Test]
    public async Task CloseSessionAsync_AnySession_PublishesSessionRevokedWithoutPayload()
    {
        await _hub.CloseSessionAsync("session-1");

        var message = _published.Single();
        Assert.Multiple(() =>
        {
            Assert.That(message.Kind, Is.EqualTo(BackplaneMessageKind.SessionRevoked));
            Assert.That(message.Target, Is.EqualTo("session-1"));
            Assert.That(message.Payload.IsEmpty, Is.True);
        });
    }

    [Test]
    public void SendToSessionAsync_InvalidType_ThrowsAndPublishesNothing()
    {
        Assert.ThrowsAsync<ArgumentException>(async () => await _hub.SendToSessionAsync("session-1", "not valid", 1));
        Assert.That(_published, Is.Empty);
    }

    [Test]
    public async Task SendToConnectionAsync_UnknownConnection_ReturnsFalseAndPublishesNothing()
    {
        var sent = await _hub.SendToConnectionAsync("nobody", "note", 1);

        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.False);
            Assert.That(_published, Is.Empty);
        });
    }

    [Test]
    public async Task SendToConnectionAsync_LocalConnection_QueuesWithoutTheBackplane()
    {
        using var connections = new TestConnections();
        var hub = new SocketHub(connections.Registry, _backplane.Object, TestSessions.Metrics(), Options.Create(new JsonOptions()));
        var connection = connections.Create();
        connections.Registry.Add(connection);

        var sent = await hub.SendToConnectionAsync(connection.Id, "note", 1);

        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.True);
            Assert.That(_published, Is.Empty);
            Assert.That(hub.ConnectionCount, Is.EqualTo(1));
        });
    }

    private static string Envelope(BackplaneMessage message) => System.Text.Encoding.UTF8.GetString(message.Payload.Span);

    /// <summary>Counts how often the serialiser writes it.</summary>
    [JsonConverter(typeof(CountedConverter))]
    private sealed class Counted
    {
        public int Writes;
    }

    private sealed class CountedConverter : JsonConverter<Counted>
    {
        public override Counted Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, Counted value, JsonSerializerOptions options)
        {
            Interlocked.Increment(ref value.Writes);
            writer.WriteStringValue("counted");
        }
    }
}
