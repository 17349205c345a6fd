using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Moq;
using SessionSockets.Hosting;

namespace SessionSockets.Tests.Hosting;

public class SessionSocketOptionsTests
{
    private static ValidateOptionsResult Validate(SessionSocketOptions options) =>
        new SessionSocketOptionsValidator().Validate(Options.DefaultName, options);

    private static string Failures(SessionSocketOptions options) => string.Join(" | ", Validate(options).Failures ?? []);

    [Test]
    public void Defaults_AreThoseOfProtocolSection8a()
    {
        var o = new SessionSocketOptions();

        Assert.Multiple(() =>
        {
            Assert.That(o.Path, Is.EqualTo("/ws"));
            Assert.That(o.MaxMessageSize, Is.EqualTo(32768));
            Assert.That(o.SessionMode, Is.EqualTo(SessionMode.InBand));
            Assert.That(o.AuthenticationTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(o.MaxFailedSessionAttempts, Is.EqualTo(5));
            Assert.That(o.KeepAliveInterval, Is.EqualTo(TimeSpan.FromSeconds(15)));
            Assert.That(o.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(o.MaxQueuedMessages, Is.EqualTo(256));
            Assert.That(o.RateLimit.MessagesPerSecond, Is.EqualTo(100));
            Assert.That(o.RateLimit.Burst, Is.EqualTo(200));
            Assert.That(o.MaxConnections, Is.Zero);
            Assert.That(o.AllowedOrigins, Is.Empty);
            Assert.That(o.SessionCookieName, Is.EqualTo("sid"));
            Assert.That(o.AllowBearerToken, Is.True);
            Assert.That(o.AllowQueryStringToken, Is.False);
            Assert.That(o.CacheDuration, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(o.RevalidationInterval, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(o.SlidingExpiration, Is.False);
            Assert.That(o.RenewalInterval, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(o.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(o.HandlerTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(o.MaxSubscriptions, Is.EqualTo(100));
        });
    }

    [Test]
    public void Validate_Defaults_Succeeds() =>
        Assert.That(Validate(new SessionSocketOptions()).Succeeded, Is.True, Failures(new SessionSocketOptions()));

    private static IEnumerable<TestCaseData> Violations()
    {
        TestCaseData Case(string name, Action<SessionSocketOptions> change) => new TestCaseData(change, name).SetArgDisplayNames(name + "_" + Count++);
        yield return Case("Path", o => o.Path = "ws");
        yield return Case("Path", o => o.Path = "");
        yield return Case("Path", o => o.Path = null!);
        yield return Case("MaxMessageSize", o => o.MaxMessageSize = 63);
        yield return Case("MaxMessageSize", o => o.MaxMessageSize = 0);
        yield return Case("MaxMessageSize", o => o.MaxMessageSize = (16 * 1024 * 1024) + 1);
        yield return Case("SessionMode", o => o.SessionMode = (SessionMode)42);
        yield return Case("AuthenticationTimeout", o => o.AuthenticationTimeout = TimeSpan.Zero);
        yield return Case("AuthenticationTimeout", o => o.AuthenticationTimeout = TimeSpan.FromDays(2));
        yield return Case("MaxFailedSessionAttempts", o => o.MaxFailedSessionAttempts = 0);
        yield return Case("MaxFailedSessionAttempts", o => o.MaxFailedSessionAttempts = 1001);
        yield return Case("KeepAliveInterval", o => o.KeepAliveInterval = TimeSpan.FromSeconds(-1));
        yield return Case("KeepAliveTimeout", o => o.KeepAliveTimeout = TimeSpan.Zero);
        yield return Case("MaxQueuedMessages", o => o.MaxQueuedMessages = 0);
        yield return Case("MaxSubscriptions", o => o.MaxSubscriptions = 0);
        yield return Case("MaxSubscriptions", o => o.MaxSubscriptions = 100_001);
        yield return Case("MessagesPerSecond", o => o.RateLimit.MessagesPerSecond = -1);
        yield return Case("Burst", o => o.RateLimit.Burst = 0);
        yield return Case("MaxConnections", o => o.MaxConnections = -1);
        yield return Case("SessionCookieName", o => o.SessionCookieName = "");
        yield return Case("CacheDuration", o => o.CacheDuration = TimeSpan.FromSeconds(-1));
        yield return Case("RevalidationInterval", o => o.RevalidationInterval = TimeSpan.Zero);
        yield return Case("RenewalInterval", o => o.RenewalInterval = TimeSpan.FromSeconds(-1));
        yield return Case("ShutdownTimeout", o => o.ShutdownTimeout = TimeSpan.FromMinutes(11));
        yield return Case("ShutdownTimeout", o => o.ShutdownTimeout = TimeSpan.FromSeconds(-1));
        yield return Case("HandlerTimeout", o => o.HandlerTimeout = TimeSpan.Zero);
        yield return Case("HandlerTimeout", o => o.HandlerTimeout = TimeSpan.FromSeconds(-5));
        yield return Case("HandlerTimeout", o => o.HandlerTimeout = TimeSpan.FromDays(2));
    }

    private static int Count;

    [TestCaseSource(nameof(Violations))]
    public void Validate_OutOfRange_FailsNamingTheOption(Action<SessionSocketOptions> change, string name)
    {
        var options = new SessionSocketOptions();
        change(options);

        var result = Validate(options);

        Assert.That(result.Failed, Is.True);
        Assert.That(Failures(options), Does.Contain(name));
    }

    [Test]
    public void Validate_BoundaryValues_Succeed()
    {
        var options = new SessionSocketOptions
        {
            Path = "/",
            MaxMessageSize = 64,
            MaxFailedSessionAttempts = 1,
            KeepAliveInterval = TimeSpan.Zero,
            KeepAliveTimeout = TimeSpan.FromMilliseconds(10),
            MaxQueuedMessages = 1,
            MaxConnections = 0,
            CacheDuration = TimeSpan.Zero,
            RenewalInterval = TimeSpan.Zero,
            ShutdownTimeout = TimeSpan.Zero,
            HandlerTimeout = Timeout.InfiniteTimeSpan,
            SessionMode = SessionMode.Optional,
        };
        options.RateLimit.MessagesPerSecond = 0;
        options.RateLimit.Burst = 1;

        Assert.That(Validate(options).Succeeded, Is.True, Failures(options));
    }

    [TestCase("https://chat.example/path")]
    [TestCase("https://chat.example/?q=1")]
    [TestCase("https://chat.example#frag")]
    [TestCase("https://*.chat.example")]
    [TestCase("*")]
    [TestCase("chat.example")]
    [TestCase("ws://chat.example")]
    [TestCase("wss://chat.example")]
    [TestCase("ftp://chat.example")]
    [TestCase("file:///etc/passwd")]
    [TestCase("https://user:pw@chat.example")]
    [TestCase("null")]
    [TestCase("")]
    public void Validate_BadAllowedOrigin_FailsNamingTheEntry(string origin)
    {
        var options = new SessionSocketOptions();
        options.AllowedOrigins.Add("https://fine.example");
        options.AllowedOrigins.Add(origin);

        Assert.That(Validate(options).Failed, Is.True);
        Assert.That(Failures(options), Does.Contain("AllowedOrigins:1"));
        Assert.That(Failures(options), Does.Not.Contain("AllowedOrigins:0"));
    }

    [TestCase("https://chat.example")]
    [TestCase("http://localhost:5080")]
    [TestCase("https://chat.example:8443")]
    [TestCase("HTTPS://Chat.Example")]
    public void Validate_GoodAllowedOrigin_Succeeds(string origin)
    {
        var options = new SessionSocketOptions();
        options.AllowedOrigins.Add(origin);

        Assert.That(Validate(options).Succeeded, Is.True, Failures(options));
    }

    [Test]
    public void Validate_KeepAliveTimeoutBelowInterval_Fails()
    {
        var options = new SessionSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20), KeepAliveTimeout = TimeSpan.FromSeconds(19) };

        Assert.That(Validate(options).Failed, Is.True);
        Assert.That(Failures(options), Does.Contain("KeepAliveTimeout"));
    }

    [Test]
    public void Validate_KeepAliveTimeoutEqualToInterval_Succeeds()
    {
        var options = new SessionSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20), KeepAliveTimeout = TimeSpan.FromSeconds(20) };

        Assert.That(Validate(options).Succeeded, Is.True);
    }

    [Test]
    public void Validate_NestedRateLimit_FailureNamesTheNestedMember()
    {
        var options = new SessionSocketOptions();
        options.RateLimit.Burst = 0;

        Assert.That(Failures(options), Does.Contain("RateLimit").And.Contain("Burst"));
    }

    [Test]
    public void ThrowIfInvalid_InvalidOptions_ThrowsOptionsValidationException() =>
        Assert.That(() => SessionSocketOptionsValidator.ThrowIfInvalid(new SessionSocketOptions { MaxMessageSize = 1 }),
            Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MaxMessageSize"));

    private static ServiceProvider BuildProvider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSessionWebSockets().AddSessionStore(_ => Mock.Of<ISessionRepository>());
        return services.BuildServiceProvider();
    }

    [Test]
    public void Binding_EveryKeyOfSection8a_IsRead()
    {
        using var provider = BuildProvider(new()
        {
            ["SessionSockets:Path"] = "/sockets",
            ["SessionSockets:MaxMessageSize"] = "1024",
            ["SessionSockets:SessionMode"] = "Handshake",
            ["SessionSockets:AuthenticationTimeout"] = "00:00:03",
            ["SessionSockets:MaxFailedSessionAttempts"] = "2",
            ["SessionSockets:KeepAliveInterval"] = "00:00:07",
            ["SessionSockets:KeepAliveTimeout"] = "00:00:09",
            ["SessionSockets:MaxQueuedMessages"] = "16",
            ["SessionSockets:MaxSubscriptions"] = "7",
            ["SessionSockets:RateLimit:MessagesPerSecond"] = "0",
            ["SessionSockets:RateLimit:Burst"] = "3",
            ["SessionSockets:MaxConnections"] = "10",
            ["SessionSockets:AllowedOrigins:0"] = "https://a.example",
            ["SessionSockets:AllowedOrigins:1"] = "https://b.example:8443",
            ["SessionSockets:SessionCookieName"] = "session",
            ["SessionSockets:AllowBearerToken"] = "false",
            ["SessionSockets:AllowQueryStringToken"] = "true",
            ["SessionSockets:CacheDuration"] = "00:00:00",
            ["SessionSockets:RevalidationInterval"] = "00:00:04",
            ["SessionSockets:SlidingExpiration"] = "true",
            ["SessionSockets:RenewalInterval"] = "00:00:06",
            ["SessionSockets:ShutdownTimeout"] = "00:00:02",
            ["SessionSockets:HandlerTimeout"] = "00:00:01.5",
        });

        var o = provider.GetRequiredService<IOptions<SessionSocketOptions>>().Value;

        Assert.Multiple(() =>
        {
            Assert.That(o.Path, Is.EqualTo("/sockets"));
            Assert.That(o.MaxMessageSize, Is.EqualTo(1024));
            Assert.That(o.SessionMode, Is.EqualTo(SessionMode.Handshake));
            Assert.That(o.AuthenticationTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(o.MaxFailedSessionAttempts, Is.EqualTo(2));
            Assert.That(o.KeepAliveInterval, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(o.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromSeconds(9)));
            Assert.That(o.MaxQueuedMessages, Is.EqualTo(16));
            Assert.That(o.MaxSubscriptions, Is.EqualTo(7));
            Assert.That(o.RateLimit.MessagesPerSecond, Is.Zero);
            Assert.That(o.RateLimit.Burst, Is.EqualTo(3));
            Assert.That(o.MaxConnections, Is.EqualTo(10));
            Assert.That(o.AllowedOrigins, Is.EqualTo(new[] { "https://a.example", "https://b.example:8443" }));
            Assert.That(o.SessionCookieName, Is.EqualTo("session"));
            Assert.That(o.AllowBearerToken, Is.False);
            Assert.That(o.AllowQueryStringToken, Is.True);
            Assert.That(o.CacheDuration, Is.EqualTo(TimeSpan.Zero));
            Assert.That(o.RevalidationInterval, Is.EqualTo(TimeSpan.FromSeconds(4)));
            Assert.That(o.SlidingExpiration, Is.True);
            Assert.That(o.RenewalInterval, Is.EqualTo(TimeSpan.FromSeconds(6)));
            Assert.That(o.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(o.HandlerTimeout, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
        });
    }

    [Test]
    public void Binding_CodeConfigureRunsAfterConfiguration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["SessionSockets:MaxMessageSize"] = "1024" }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddSessionWebSockets(o => o.MaxMessageSize *= 2);
        using var provider = services.BuildServiceProvider();

        Assert.That(provider.GetRequiredService<IOptions<SessionSocketOptions>>().Value.MaxMessageSize, Is.EqualTo(2048));
    }

    [TestCase("SessionSockets:MaxMessageSize", "10", "MaxMessageSize")]
    [TestCase("SessionSockets:RateLimit:Burst", "0", "Burst")]
    [TestCase("SessionSockets:AllowedOrigins:0", "https://chat.example/path", "AllowedOrigins:0")]
    [TestCase("SessionSockets:KeepAliveTimeout", "00:00:01", "KeepAliveTimeout")]
    [TestCase("SessionSockets:Path", "ws", "Path")]
    public void Start_InvalidConfiguredValue_ThrowsOptionsValidationExceptionNamingTheKey(string key, string value, string named)
    {
        using var host = BuildHost(key, value);

        Assert.That(async () => await host.StartAsync(),
            Throws.TypeOf<OptionsValidationException>().With.Message.Contains(named));
    }

    [Test]
    public void Start_UnparsableConfiguredValue_ThrowsNamingTheKey()
    {
        using var host = BuildHost("SessionSockets:MaxMessageSize", "lots");

        Assert.That(async () => await host.StartAsync(),
            Throws.InvalidOperationException.With.Message.Contains("SessionSockets:MaxMessageSize"));
    }

    [Test]
    public void OptionsAccess_InvalidConfiguredValue_Throws()
    {
        using var provider = BuildProvider(new() { ["SessionSockets:MaxFailedSessionAttempts"] = "0" });

        Assert.That(() => provider.GetRequiredService<IOptions<SessionSocketOptions>>().Value,
            Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MaxFailedSessionAttempts"));
    }

    private static IHost BuildHost(string key, string value)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [key] = value });
        builder.Services.AddSessionWebSockets().AddSessionStore(_ => Mock.Of<ISessionRepository>());
        return builder.Build();
    }
}
