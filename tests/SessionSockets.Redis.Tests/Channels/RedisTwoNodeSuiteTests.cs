using SessionSockets.Channels;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.Redis.Channels;
using SessionSockets.Redis.Tests.Support;
using SessionSockets.TwoNodes;

namespace SessionSockets.Redis.Tests.Channels;

/// <summary>The shared two-node suite (<see cref="TwoNodeSuite"/>) on the Redis backplane and channel engine, sessions in PostgreSQL.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisTwoNodeSuiteTests : TwoNodeSuite
{
    protected override ITwoNodeCluster CreateCluster() => new RedisCluster();

    private sealed class RedisCluster : ITwoNodeCluster
    {
        private readonly List<TestHost> _nodes = [];
        private readonly string _schema = PostgresServer.NewSchemaName("redis2n");
        private readonly string _prefix = RedisServer.NewPrefix();

        public async Task<TestHost> StartNodeAsync()
        {
            var node = await RedisNodeFixture.StartNodeAsync(_schema, _prefix, b => b
                .AddChannels("room:", c => c.RequireSession().Presence())
                .AddChannels("public:")
                .AddChannels("feed:", c => c.History(100, TimeSpan.FromMinutes(10)))
                .AddRedisChannels());
            _nodes.Add(node);
            return node;
        }

        public IChannelEngine Engine(TestHost node) => node.Services.GetRequiredService<RedisChannelEngine>();

        public async Task AddSilentNodeMemberAsync(TestHost node, string channel, string userId, int connections)
        {
            await using var redis = await RedisServer.ConnectAsync();
            var engine = node.Services.GetRequiredService<RedisChannelEngine>();
            await engine.Presence.SetAsync(redis.GetDatabase(), channel, userId, Guid.NewGuid().ToString("N"), connections, expiresAt: 1);
        }

        public Task BeatAsync(TestHost node) => node.Services.GetRequiredService<RedisChannelEngine>().BeatAsync(CancellationToken.None);

        public async ValueTask DisposeAsync()
        {
            for (var i = _nodes.Count - 1; i >= 0; i--)
            {
                await _nodes[i].DisposeAsync();
            }

            await PostgresServer.DropSchemaAsync(_schema);
        }
    }
}
