using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;

namespace SessionSockets.Tests.Backplane;

/// <summary>The received-message inbox: bounded, revocations before fan-out, a dropped revocation turned into a resynchronisation.</summary>
public sealed class BackplaneInboxTests
{
    private static readonly string Key = new('a', BackplaneOptions.KeyLength);
    private BackplaneNode _node = null!;

    [SetUp]
    public void SetUp() => _node = new BackplaneNode(o =>
    {
        o.Key = Key;
        o.InboxCapacity = 16;
    });

    [TearDown]
    public void TearDown() => _node.Dispose();

    [Test]
    public async Task ReadAsync_RevocationQueuedBehindBroadcasts_ComesFirst()
    {
        var inbox = _node.Inbox;
        for (var i = 0; i < 5; i++)
        {
            inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.Broadcast, null, new byte[] { (byte)i }));
        }

        inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, "s1"));
        inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.SessionRenewed, "s2") { ExpiresAt = _node.Time.GetUtcNow() });

        var order = new List<BackplaneMessageKind>();
        for (var i = 0; i < 7; i++)
        {
            order.Add((await inbox.ReadAsync()).Kind);
        }

        Assert.That(order, Is.EqualTo(new[]
        {
            BackplaneMessageKind.SessionRevoked, BackplaneMessageKind.SessionRenewed,
            BackplaneMessageKind.Broadcast, BackplaneMessageKind.Broadcast, BackplaneMessageKind.Broadcast, BackplaneMessageKind.Broadcast, BackplaneMessageKind.Broadcast,
        }));
    }

    [Test]
    public async Task TryWrite_FanOutQueueFull_DropsAndCountsAndRevocationsStillPass()
    {
        var inbox = _node.Inbox;
        var accepted = 0;
        for (var i = 0; i < 3000; i++)
        {
            accepted += inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.Broadcast, null, new byte[] { 1 })) ? 1 : 0;
        }

        Assert.That(accepted, Is.EqualTo(16));
        Assert.That(_node.Dropped.GetMeasurementSnapshot().EvaluateAsCounter(), Is.EqualTo(3000 - 16));
        Assert.That(_node.Dropped.LastMeasurement!.Tags["queue"], Is.EqualTo("fan_out"));
        Assert.That(_node.Logs.Entries.Count(e => e.EventId.Name == "BackplaneInboxFull"), Is.EqualTo(1));

        Assert.That(inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, "s1")), Is.True);
        Assert.That((await inbox.ReadAsync()).Kind, Is.EqualTo(BackplaneMessageKind.SessionRevoked));
    }

    [Test]
    public async Task TryWrite_ControlQueueFull_NextReadIsAResynchronisation()
    {
        var inbox = _node.Inbox;
        for (var i = 0; i < 20; i++)
        {
            inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, "s" + i));
        }

        Assert.That((await inbox.ReadAsync()).Kind, Is.EqualTo(BackplaneMessageKind.Resynchronize));
        var rest = new List<string?>();
        for (var i = 0; i < 16; i++)
        {
            rest.Add((await inbox.ReadAsync()).Target);
        }

        Assert.That(rest, Is.EqualTo(Enumerable.Range(0, 16).Select(i => "s" + i)));
        Assert.That(_node.Dropped.LastMeasurement!.Tags["queue"], Is.EqualTo("control"));
    }

    [Test]
    public void ReadAsync_Empty_WaitsUntilCancelled()
    {
        using var cts = new CancellationTokenSource();
        var read = _node.Inbox.ReadAsync(cts.Token).AsTask();
        Assert.That(read.IsCompleted, Is.False);

        cts.Cancel();

        Assert.That(async () => await read, Throws.InstanceOf<OperationCanceledException>());
    }
}

/// <summary><see cref="BackplaneOptions"/>: a missing or malformed key stops the start, naming the key and never quoting it.</summary>
public sealed class BackplaneOptionsTests
{
    [TestCase(null, "SessionSockets:Backplane:Key is required")]
    [TestCase("abc123", "SessionSockets:Backplane:Key must be 64 hexadecimal characters (32 bytes); it has 6.")]
    [TestCase("zz000000000000000000000000000000000000000000000000000000000000zz", "SessionSockets:Backplane:Key must be 64 hexadecimal characters (0-9, a-f)")]
    public void AddBackplaneSecurity_BadKey_FailsNamingTheKey(string? key, string expected)
    {
        var error = Validate(o => o.Key = key);

        Assert.That(error, Does.Contain(expected));
        if (key is not null)
        {
            Assert.That(error, Does.Not.Contain(key));
        }
    }

    [Test]
    public void AddBackplaneSecurity_BadRotationKey_FailsNamingItsIndex()
    {
        var error = Validate(o =>
        {
            o.Key = new string('1', 64);
            o.Keys.Add(new string('2', 64));
            o.Keys.Add("short");
        });

        Assert.That(error, Does.Contain("SessionSockets:Backplane:Keys:1 must be 64 hexadecimal characters"));
    }

    [Test]
    public void AddBackplaneSecurity_LimitsOutOfRange_FailNamingEach()
    {
        var error = Validate(o =>
        {
            o.Key = new string('1', 64);
            o.MaxClockSkew = TimeSpan.Zero;
            o.ReplayCacheSize = 1;
            o.InboxCapacity = 0;
        });

        Assert.That(error, Does.Contain("SessionSockets:Backplane:MaxClockSkew")
            .And.Contain("SessionSockets:Backplane:ReplayCacheSize")
            .And.Contain("SessionSockets:Backplane:InboxCapacity"));
    }

    [Test]
    public void AddBackplaneSecurity_ValidKey_Resolves()
    {
        Assert.That(Validate(o => o.Key = Convert.ToHexString(new byte[32])), Is.Null);
    }

    [Test]
    public void AddSessionWebSockets_WithoutADistributedBackplane_NeedsNoKey()
    {
        var services = new ServiceCollection();
        services.AddSessionWebSockets();
        using var provider = services.BuildServiceProvider();

        Assert.That(provider.GetService<BackplaneSigner>(), Is.Null);
    }

    private static string? Validate(Action<BackplaneOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddBackplaneSecurity().AddBackplaneSecurity();
        services.Configure(configure);
        using var provider = services.BuildServiceProvider();
        try
        {
            _ = provider.GetRequiredService<BackplaneSigner>();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return ex.Message;
        }
    }
}
