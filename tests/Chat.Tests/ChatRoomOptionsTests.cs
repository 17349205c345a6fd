using Microsoft.Extensions.Configuration;

namespace Chat.Tests;

/// <summary><c>Chat:Rooms:HistorySize</c> and <c>Chat:Rooms:HistoryTtl</c>: defaults, and a bad value stops the app with its key.</summary>
[TestFixture]
public sealed class ChatRoomOptionsTests
{
    private static IConfiguration Configuration(string? size = null, string? ttl = null) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chat:Rooms:HistorySize"] = size,
            ["Chat:Rooms:HistoryTtl"] = ttl,
        }).Build();

    [Test]
    public void FromConfiguration_NothingSet_Is100For10Minutes()
    {
        var options = ChatRoomOptions.FromConfiguration(Configuration());

        Assert.That(options.HistorySize, Is.EqualTo(100));
        Assert.That(options.HistoryTtl, Is.EqualTo(TimeSpan.FromMinutes(10)));
    }

    [Test]
    public void FromConfiguration_Set_IsRead()
    {
        var options = ChatRoomOptions.FromConfiguration(Configuration("5", "00:00:30"));

        Assert.That(options, Is.EqualTo(new ChatRoomOptions { HistorySize = 5, HistoryTtl = TimeSpan.FromSeconds(30) }));
    }

    [TestCase("0", null, "Chat:Rooms:HistorySize")]
    [TestCase("-1", null, "Chat:Rooms:HistorySize")]
    [TestCase("10001", null, "Chat:Rooms:HistorySize")]
    [TestCase("many", null, "Chat:Rooms:HistorySize")]
    [TestCase(null, "00:00:00", "Chat:Rooms:HistoryTtl")]
    [TestCase(null, "-00:01:00", "Chat:Rooms:HistoryTtl")]
    [TestCase(null, "2.00:00:00", "Chat:Rooms:HistoryTtl")]
    [TestCase(null, "soon", "Chat:Rooms:HistoryTtl")]
    public void FromConfiguration_BadValue_ThrowsNamingTheKey(string? size, string? ttl, string key)
    {
        Assert.That(() => ChatRoomOptions.FromConfiguration(Configuration(size, ttl)),
            Throws.InvalidOperationException.With.Message.Contains(key));
    }
}
