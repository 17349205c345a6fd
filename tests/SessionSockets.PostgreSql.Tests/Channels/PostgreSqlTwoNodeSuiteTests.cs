using SessionSockets.Channels;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.TwoNodes;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>The shared two-node suite (<see cref="TwoNodeSuite"/>) on the PostgreSQL backplane and channel engine.</summary>
[TestFixture]
[NonParallelizable]
public sealed class PostgreSqlTwoNodeSuiteTests : TwoNodeSuite
{
    protected override ITwoNodeCluster CreateCluster() => new PostgreSqlCluster();

    private sealed class PostgreSqlCluster : ITwoNodeCluster
    {
        private readonly List<TestHost> _nodes = [];
        private readonly string _schema = PostgresServer.NewSchemaName("pg2n");

        public async Task<TestHost> StartNodeAsync()
        {
            var node = await ChannelNode.StartAsync(_schema, "ch_" + _schema);
            _nodes.Add(node);
            return node;
        }

        public IChannelEngine Engine(TestHost node) => node.Engine;

        public async Task AddSilentNodeMemberAsync(TestHost node, string channel, string userId, int connections)
        {
            // Its heartbeat expired at 1 ms after the epoch; its rows are still there. The values are the test's own.
            var dead = "dead" + Guid.NewGuid().ToString("N");
            await PostgresServer.ExecuteAsync($"""
                INSERT INTO "{_schema}".session_sockets_nodes VALUES ('{dead}', 1);
                INSERT INTO "{_schema}".session_sockets_presence VALUES ('{channel}', '{userId}', '{dead}', {connections});
                """);
        }

        public Task BeatAsync(TestHost node) => node.Engine.BeatAsync(CancellationToken.None);

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
