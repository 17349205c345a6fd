using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Logging;
using SessionSockets.Messaging.Authorization;

namespace SessionSockets.IntegrationTests.Messaging;

/// <summary>
/// The connection's user and handler policies (issue 13, "Identity for policies"), over real Kestrel: a policy that fails
/// or throws is <c>forbidden</c> before the handler runs, and the connection stays open.
/// </summary>
[TestFixture]
public sealed class AuthorizationTests
{
    private static int s_adminRuns;

    [Authorize(Roles = "admin")]
    public sealed class AdminOnlyHandler() : MessageHandler<JsonElement>("admin.only")
    {
        protected override ValueTask HandleAsync(MessageContext context, JsonElement data, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref s_adminRuns);
            return context.ReplyAsync(new { ok = true }, cancellationToken);
        }
    }

    [Authorize(Policy = "editors")]
    public sealed class EditorHandler() : MessageHandler<JsonElement>("editor.only")
    {
        protected override ValueTask HandleAsync(MessageContext context, JsonElement data, CancellationToken cancellationToken) =>
            context.ReplyAsync(new { ok = true }, cancellationToken);
    }

    [Authorize(Policy = "editors")]
    [AllowAnonymous]
    public sealed class OpenHandler() : MessageHandler<JsonElement>("open", SessionRequirement.Optional)
    {
        protected override ValueTask HandleAsync(MessageContext context, JsonElement data, CancellationToken cancellationToken) =>
            context.ReplyAsync(new { ok = true }, cancellationToken);
    }

    public sealed class CountingFactory : ISessionPrincipalFactory
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ClaimsPrincipal CreatePrincipal(SessionInfo session)
        {
            Interlocked.Increment(ref _calls);
            var identity = SessionPrincipal.CreateIdentity(session);
            identity.AddClaim(new Claim("built", Calls.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return new ClaimsPrincipal(identity);
        }
    }

    [Test]
    public async Task RequireAuthorization_RoleFromSessionData_PassesForAdminAndForbidsOthers()
    {
        var ran = 0;
        await using var host = await StartAsync(b => b
            .MapMessage("report", (context, ct) =>
            {
                Interlocked.Increment(ref ran);
                return context.ReplyAsync(new { ok = true }, ct);
            })
            .RequireAuthorization("admins"));
        using var admin = await ConnectAsync(host, "alice", """{"roles":["admin"]}""");
        using var user = await ConnectAsync(host, "bob", """{"roles":["reader"]}""");

        var allowed = await admin.RequestAsync("report", "1");
        var refused = await user.RequestAsync("report", "2");

        Assert.Multiple(() =>
        {
            Assert.That(allowed.GetProperty("data").GetProperty("ok").GetBoolean(), Is.True);
            Assert.That(refused.Str("type"), Is.EqualTo("error"));
            Assert.That(refused.Str("id"), Is.EqualTo("2"));
            Assert.That(refused.ErrorCode(), Is.EqualTo("forbidden"));
            Assert.That(ran, Is.EqualTo(1), "the handler never runs for a refused message");
        });
        Assert.That((await user.RequestAsync("echo", "3", new { still = "open" })).GetProperty("data").Str("still"), Is.EqualTo("open"));
    }

    [Test]
    public async Task AuthorizeAttribute_OnHandlerClass_RolesAndPolicy()
    {
        Interlocked.Exchange(ref s_adminRuns, 0);
        await using var host = await StartAsync(b => b.AddHandler<AdminOnlyHandler>().AddHandler<EditorHandler>());
        using var admin = await ConnectAsync(host, "alice", """{"roles":["admin"]}""");
        using var editor = await ConnectAsync(host, "erin", """{"roles":["editor"]}""");

        Assert.Multiple(async () =>
        {
            Assert.That((await admin.RequestAsync("admin.only", "1")).Str("type"), Is.EqualTo("admin.only"));
            Assert.That((await editor.RequestAsync("admin.only", "2")).ErrorCode(), Is.EqualTo("forbidden"));
            Assert.That((await editor.RequestAsync("editor.only", "3")).Str("type"), Is.EqualTo("editor.only"));
            Assert.That((await admin.RequestAsync("editor.only", "4")).ErrorCode(), Is.EqualTo("forbidden"));
        });
        Assert.That(s_adminRuns, Is.EqualTo(1));
    }

    [Test]
    public async Task AllowAnonymous_OnClassOrMapping_WinsOverPolicies()
    {
        await using var host = await StartAsync(b => b
            .AddHandler<OpenHandler>()
            .MapMessage("open.mapped", (context, ct) => context.ReplyAsync(new { ok = true }, ct), SessionRequirement.Optional)
            .RequireAuthorization("editors")
            .AllowAnonymous());
        using var client = await host.ConnectAsync();

        Assert.That((await client.RequestAsync("open", "1")).Str("type"), Is.EqualTo("open"));
        Assert.That((await client.RequestAsync("open.mapped", "2")).Str("type"), Is.EqualTo("open.mapped"));
    }

    [Test]
    public async Task AuthorizeAttribute_OnMappedDelegate_IsRead()
    {
        await using var host = await StartAsync(b => b.MapMessage(
            "lambda.admin",
            [Authorize(Roles = "admin")] (MessageContext context, CancellationToken ct) => context.ReplyAsync(new { ok = true }, ct)));
        using var user = await ConnectAsync(host, "bob", null);
        using var admin = await ConnectAsync(host, "alice", """{"roles":["admin"]}""");

        Assert.That((await user.RequestAsync("lambda.admin", "1")).ErrorCode(), Is.EqualTo("forbidden"));
        Assert.That((await admin.RequestAsync("lambda.admin", "2")).Str("type"), Is.EqualTo("lambda.admin"));
    }

    [Test]
    public async Task UnboundConnection_RequireAuthenticatedUser_ForbiddenUntilBound()
    {
        // The handler itself needs no session: only the policy says no to an unbound connection.
        await using var host = await StartAsync(
            b => b
                .MapMessage("members", (context, ct) => context.ReplyAsync(new { user = context.User.Identity!.Name }, ct), SessionRequirement.Optional)
                .RequireAuthorization("signed-in")
                .MapMessage("members.default", (context, ct) => context.ReplyAsync(new { ok = true }, ct), SessionRequirement.Optional)
                .RequireAuthorization());
        var session = await host.Sessions.CreateAsync("carol", TimeSpan.FromHours(1));
        using var client = await host.ConnectAsync();

        var before = await client.RequestAsync("members", "1");
        var beforeDefault = await client.RequestAsync("members.default", "2");
        await client.BindAsync(session.Token);
        var after = await client.RequestAsync("members", "3");
        var afterDefault = await client.RequestAsync("members.default", "4");

        Assert.Multiple(() =>
        {
            Assert.That(before.ErrorCode(), Is.EqualTo("forbidden"));
            Assert.That(beforeDefault.ErrorCode(), Is.EqualTo("forbidden"), "no names means the default policy: an authenticated user");
            Assert.That(after.GetProperty("data").Str("user"), Is.EqualTo("carol"));
            Assert.That(afterDefault.Str("type"), Is.EqualTo("members.default"));
        });
    }

    [Test]
    public async Task PolicyThatThrows_Forbidden_LoggedWithoutSecrets_ConnectionStaysOpen()
    {
        await using var host = await StartAsync(b => b
            .MapMessage("fragile", (context, ct) => context.ReplyAsync(new { ok = true }, ct))
            .RequireAuthorization("throws"));
        var session = await host.Sessions.CreateAsync("dave", TimeSpan.FromHours(1));
        using var client = await host.ConnectAsync();
        await client.BindAsync(session.Token);

        var reply = await client.RequestAsync("fragile", "1");

        Assert.Multiple(() =>
        {
            Assert.That(reply.ErrorCode(), Is.EqualTo("forbidden"));
            Assert.That(reply.ToString(), Does.Not.Contain("policy exploded"));
        });
        var entry = host.Logs.Entries.Single(e => e.EventId.Name == "AuthorizationFailed");
        Assert.Multiple(() =>
        {
            Assert.That(entry.Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(entry.Message, Does.Contain("'throws'").And.Contain("fragile"));
            Assert.That(entry.Exception?.Message, Is.EqualTo("policy exploded"));
            Assert.That(host.Logs.Entries.Select(e => e.Text), Has.None.Contain(session.Token).And.None.Contain(session.Session.Id));
        });
        Assert.That((await client.RequestAsync("echo", "2", new { n = 1 })).Str("type"), Is.EqualTo("echo"));
    }

    [Test]
    public async Task User_InHandler_IsTheBoundSession_UnauthenticatedWhileUnbound()
    {
        await using var host = await StartAsync(b => b.MapMessage("me", (context, ct) => context.ReplyAsync(
            new
            {
                authenticated = context.User.Identity?.IsAuthenticated ?? false,
                type = context.User.Identity?.AuthenticationType,
                name = context.User.Identity?.Name,
                id = context.User.FindFirstValue(ClaimTypes.NameIdentifier),
                roles = context.User.FindAll(ClaimTypes.Role).Select(c => c.Value).ToArray(),
                claims = context.User.Claims.Count(),
            },
            ct), SessionRequirement.Optional));
        var erin = await host.Sessions.CreateAsync("erin", TimeSpan.FromHours(1), """{"roles":["editor","admin"]}""");
        var frank = await host.Sessions.CreateAsync("frank", TimeSpan.FromHours(1));
        using var client = await host.ConnectAsync();

        var unbound = (await client.RequestAsync("me", "1")).GetProperty("data");
        await client.BindAsync(erin.Token);
        var asErin = (await client.RequestAsync("me", "2")).GetProperty("data");
        await client.BindAsync(frank.Token, "s2");
        var asFrank = (await client.RequestAsync("me", "3")).GetProperty("data");

        Assert.Multiple(() =>
        {
            Assert.That(unbound.GetProperty("authenticated").GetBoolean(), Is.False);
            Assert.That(unbound.GetProperty("claims").GetInt32(), Is.Zero);
            Assert.That(asErin.GetProperty("authenticated").GetBoolean(), Is.True);
            Assert.That(asErin.Str("type"), Is.EqualTo(SessionPrincipal.AuthenticationType));
            Assert.That(asErin.Str("name"), Is.EqualTo("erin"));
            Assert.That(asErin.Str("id"), Is.EqualTo("erin"));
            Assert.That(asErin.GetProperty("roles").EnumerateArray().Select(r => r.GetString()), Is.EqualTo(new[] { "editor", "admin" }));
            Assert.That(asFrank.Str("name"), Is.EqualTo("frank"), "a new binding gets a new principal");
            Assert.That(asFrank.GetProperty("roles").GetArrayLength(), Is.Zero);
        });
    }

    [Test]
    public async Task PrincipalFactory_CalledOncePerBinding_NotPerMessage()
    {
        var factory = new CountingFactory();
        await using var host = await StartAsync(
            b => b
                .AddSessionPrincipalFactory<CountingFactory>()
                .MapMessage("built", (context, ct) => context.ReplyAsync(new { built = context.User.FindFirstValue("built") }, ct))
                .RequireAuthorization("signed-in"),
            services => services.AddSingleton(factory));
        var session = await host.Sessions.CreateAsync("gina", TimeSpan.FromHours(1));
        using var client = await host.ConnectAsync();
        await client.BindAsync(session.Token);

        var first = await client.RequestAsync("built", "1");
        var second = await client.RequestAsync("built", "2");
        var third = await client.RequestAsync("built", "3");
        await client.BindAsync(session.Token, "s2");
        var rebound = await client.RequestAsync("built", "4");

        Assert.Multiple(() =>
        {
            Assert.That(new[] { first, second, third }.Select(r => r.GetProperty("data").Str("built")), Is.All.EqualTo("1"));
            Assert.That(rebound.GetProperty("data").Str("built"), Is.EqualTo("2"), "binding again builds the principal again");
            Assert.That(factory.Calls, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task SocketAuthorizer_NamedPolicyWithResource_FailsClosedOnUnknownPolicy()
    {
        await using var host = await StartAsync(b => b.MapMessage<string>("check", async (context, resource, ct) =>
        {
            var authorizer = context.Services.GetRequiredService<SocketAuthorizer>();
            var owner = await authorizer.AuthorizeAsync(context, "owner", resource, ct);
            var unknown = await authorizer.AuthorizeAsync(context, "no-such-policy", resource, ct);
            await context.ReplyAsync(new { owner, unknown }, ct);
        }));
        using var client = await ConnectAsync(host, "hana", null);

        var own = (await client.RequestAsync("check", "1", "user:hana")).GetProperty("data");
        var other = (await client.RequestAsync("check", "2", "user:ivan")).GetProperty("data");

        Assert.Multiple(() =>
        {
            Assert.That(own.GetProperty("owner").GetBoolean(), Is.True);
            Assert.That(other.GetProperty("owner").GetBoolean(), Is.False);
            Assert.That(own.GetProperty("unknown").GetBoolean(), Is.False);
            Assert.That(host.Logs.Entries.Count(e => e.EventId.Name == "AuthorizationFailed" && e.Message.Contains("no-such-policy", StringComparison.Ordinal)), Is.EqualTo(2));
        });
    }

    [Test]
    public void Start_HandlerNamesUndefinedPolicy_FailsNamingIt()
    {
        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await StartAsync(b => b
                .MapMessage("typo", (context, ct) => context.ReplyAsync(new { ok = true }, ct))
                .RequireAuthorization("admnis"));
        });
        Assert.That(thrown!.Message, Does.Contain("'admnis'").And.Contain("'typo'").And.Contain("AddAuthorization"));
    }

    [Test]
    public void RequireAuthorization_EmptyName_Throws()
    {
        var services = new ServiceCollection();
        var handler = services.AddSessionWebSockets().MapMessage("x", (context, ct) => ValueTask.CompletedTask);
        Assert.That(() => handler.RequireAuthorization(" "), Throws.ArgumentException);
    }

    private static Task<TestHost> StartAsync(Action<ISessionSocketsBuilder> handlers, Action<IServiceCollection>? services = null) =>
        TestHost.StartAsync(
            handlers: b =>
            {
                b.AddSessionClaims(static (session, identity) =>
                {
                    if (session.Data is null)
                    {
                        return;
                    }

                    using var data = JsonDocument.Parse(session.Data);
                    if (data.RootElement.TryGetProperty("roles", out var roles))
                    {
                        foreach (var role in roles.EnumerateArray())
                        {
                            identity.AddClaim(new Claim(ClaimTypes.Role, role.GetString()!));
                        }
                    }
                });
                handlers(b);
            },
            services: s =>
            {
                s.AddAuthorizationBuilder()
                    .AddPolicy("admins", p => p.RequireRole("admin"))
                    .AddPolicy("editors", p => p.RequireRole("editor"))
                    .AddPolicy("signed-in", p => p.RequireAuthenticatedUser())
                    .AddPolicy("throws", p => p.RequireAssertion(bool (_) => throw new InvalidOperationException("policy exploded")))
                    .AddPolicy("owner", p => p.RequireAssertion(c =>
                        c.Resource is string channel && channel == "user:" + c.User.FindFirstValue(ClaimTypes.NameIdentifier)));
                services?.Invoke(s);
            });

    private static async Task<TestClient> ConnectAsync(TestHost host, string user, string? data)
    {
        var session = await host.Sessions.CreateAsync(user, TimeSpan.FromHours(1), data);
        var client = await host.ConnectAsync(bearer: session.Token);
        return client;
    }
}
