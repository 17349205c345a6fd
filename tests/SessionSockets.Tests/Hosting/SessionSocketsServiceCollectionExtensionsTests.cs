using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Moq;
using SessionSockets.Backplane;
using SessionSockets.Hosting;
using SessionSockets.Messaging;

namespace SessionSockets.Tests.Hosting;

public class SessionSocketsServiceCollectionExtensionsTests
{
    private static ServiceCollection NewServices(Dictionary<string, string?>? settings = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build());
        services.AddLogging();
        return services;
    }

    [Test]
    public void AddSessionWebSockets_Twice_RegistersOnceAndKeepsOneCatalog()
    {
        var once = NewServices();
        once.AddSessionWebSockets().AddSessionStore(_ => Mock.Of<ISessionRepository>());
        var twice = NewServices(new() { ["SessionSockets:AllowedOrigins:0"] = "https://a.example" });
        twice.AddSessionWebSockets().AddSessionStore(_ => Mock.Of<ISessionRepository>()).MapMessage("first", (_, _) => ValueTask.CompletedTask);
        twice.AddSessionWebSockets(o => o.MaxConnections = 7).MapMessage("second", (_, _) => ValueTask.CompletedTask);

        using var provider = twice.BuildServiceProvider();

        Assert.That(twice, Has.Count.EqualTo(once.Count + 1), "only the second configure delegate is new");
        Assert.That(twice.Count(d => d.ServiceType == typeof(IHostedService)), Is.EqualTo(2));
        Assert.That(provider.GetServices<IValidateOptions<SessionSocketOptions>>().OfType<SessionSocketOptionsValidator>().Count(), Is.EqualTo(1));
        var options = provider.GetRequiredService<IOptions<SessionSocketOptions>>().Value;
        Assert.That(options.AllowedOrigins, Is.EqualTo(new[] { "https://a.example" }), "configuration is bound once");
        Assert.That(options.MaxConnections, Is.EqualTo(7));
        Assert.That(provider.GetRequiredService<MessageDispatcher>().Types, Is.SupersetOf(new[] { "first", "second", "session", "ping" }));
    }

    [Test]
    public void ISessionRepository_WithoutAStore_ThrowsNamingAddSqliteStore()
    {
        var services = NewServices();
        services.AddSessionWebSockets();
        using var provider = services.BuildServiceProvider();

        Assert.That(() => provider.GetRequiredService<ISessionRepository>(),
            Throws.InvalidOperationException.With.Message.Contains("AddSqliteStore"));
    }

    [Test]
    public void ISessionRepository_WithAStore_WrapsTheLatestStore()
    {
        var first = Mock.Of<ISessionRepository>();
        var second = Mock.Of<ISessionRepository>();
        var services = NewServices();
        services.AddSessionWebSockets().AddSessionStore(_ => first).AddSessionStore(_ => second);
        using var provider = services.BuildServiceProvider();

        var repository = provider.GetRequiredService<ISessionRepository>();

        Assert.That(repository, Is.TypeOf<PublishingSessionRepository>());
        Assert.That(((PublishingSessionRepository)repository).Inner, Is.SameAs(second));
    }

    [Test]
    public void Dispatcher_TwoHandlersForOneType_ThrowsNamingTheType()
    {
        var services = NewServices();
        services.AddSessionWebSockets()
            .MapMessage("chat.send", (_, _) => ValueTask.CompletedTask)
            .AddHandler<ChatSendHandler>();
        using var provider = services.BuildServiceProvider();

        Assert.That(() => provider.GetRequiredService<MessageDispatcher>(),
            Throws.InvalidOperationException.With.Message.Contains("'chat.send'").And.Message.Contains("two handlers"));
    }

    [TestCase("session")]
    [TestCase("ping")]
    public void Dispatcher_HandlerForABuiltInType_ThrowsNamingTheBuiltIn(string type)
    {
        var services = NewServices();
        services.AddSessionWebSockets().MapMessage(type, (_, _) => ValueTask.CompletedTask);
        using var provider = services.BuildServiceProvider();

        Assert.That(() => provider.GetRequiredService<MessageDispatcher>(),
            Throws.InvalidOperationException.With.Message.Contains($"'{type}'").And.Message.Contains("built-in"));
    }

    [Test]
    public void Dispatcher_HandlerClassForSession_ThrowsNamingTheBuiltIn()
    {
        var services = NewServices();
        services.AddSessionWebSockets().AddHandler<SessionHijackHandler>();
        using var provider = services.BuildServiceProvider();

        Assert.That(() => provider.GetRequiredService<MessageDispatcher>(),
            Throws.InvalidOperationException.With.Message.Contains("built-in"));
    }

    [TestCase("")]
    [TestCase("has space")]
    public void MapMessage_InvalidType_ThrowsArgumentExceptionAtRegistration(string type)
    {
        var builder = NewServices().AddSessionWebSockets();

        Assert.That(() => builder.MapMessage(type, (_, _) => ValueTask.CompletedTask), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => builder.MapMessage<int>(type, (_, _) => ValueTask.CompletedTask), Throws.InstanceOf<ArgumentException>());
    }

    private sealed class ChatSendHandler() : MessageHandler<string>("chat.send")
    {
        protected override ValueTask HandleAsync(MessageContext context, string data, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private sealed class SessionHijackHandler() : MessageHandler<string>("session", SessionRequirement.Optional)
    {
        protected override ValueTask HandleAsync(MessageContext context, string data, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
