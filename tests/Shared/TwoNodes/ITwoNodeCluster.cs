using SessionSockets.Channels;

namespace SessionSockets.TwoNodes;

/// <summary>
/// What <see cref="TwoNodeSuite"/> needs of an engine: nodes that share a PostgreSQL session store and talk through the
/// engine under test (a schema, channel or prefix of their own per test), and the two hooks that differ per engine.
/// The cluster disposes its nodes, newest first, and drops what it created when it is disposed.
/// </summary>
public interface ITwoNodeCluster : IAsyncDisposable
{
    /// <summary>
    /// Starts a node with the namespaces <c>room:</c> (session required, presence), <c>public:</c> and <c>feed:</c>
    /// (history: 100 publications for 10 minutes), and waits until its backplane receives.
    /// </summary>
    Task<TestHost> StartNodeAsync();

    /// <summary>The node's channel engine.</summary>
    IChannelEngine Engine(TestHost node);

    /// <summary>Records, as a node that died without a word would have left it, <paramref name="connections"/> of <paramref name="userId"/> in <paramref name="channel"/> on a node whose heartbeat expired long ago.</summary>
    Task AddSilentNodeMemberAsync(TestHost node, string channel, string userId, int connections);

    /// <summary>Runs one heartbeat of <paramref name="node"/>'s engine now (renew, sweep the expired nodes, publish their leaves).</summary>
    Task BeatAsync(TestHost node);
}
