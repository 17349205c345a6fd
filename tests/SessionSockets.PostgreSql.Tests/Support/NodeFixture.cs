using SessionSockets.PostgreSql.Backplane;

namespace SessionSockets.PostgreSql.Tests.Support;

/// <summary>
/// A fixture whose tests run application nodes on one PostgreSQL database: each test gets a schema and a backplane
/// channel of its own, and its nodes and clients are disposed (newest first) and its schema dropped after it.
/// </summary>
public abstract class NodeFixture(string schemaPrefix)
{
    private readonly List<IAsyncDisposable> _disposables = [];

    /// <summary>This test's schema, for the store's and the backplane's tables.</summary>
    protected string Schema { get; private set; } = null!;

    /// <summary>This test's NOTIFY channel.</summary>
    protected string Channel { get; private set; } = null!;

    [SetUp]
    public void NameSchema()
    {
        _ = PostgresServer.ConnectionString;
        Schema = PostgresServer.NewSchemaName(schemaPrefix);
        Channel = "ch_" + Schema;
    }

    [TearDown]
    public async Task StopNodesAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        _disposables.Clear();
        await PostgresServer.DropSchemaAsync(Schema);
        AfterNodesStopped();
    }

    /// <summary>Runs after every node of the test has stopped and its schema is gone.</summary>
    protected virtual void AfterNodesStopped()
    {
    }

    /// <summary>Disposes <paramref name="disposable"/> after the test, before the nodes started earlier.</summary>
    protected void Track(IAsyncDisposable disposable) => _disposables.Add(disposable);

    protected async Task<TestHost> StartNodeAsync(Action<PostgreSqlBackplaneOptions>? backplane = null)
    {
        var node = await TestNode.StartAsync(Schema, Channel, backplane);
        Track(node);
        return node;
    }

    protected async Task<TestClient> ConnectAsync(TestHost node, string token)
    {
        var client = await node.ConnectAsync(bearer: token);
        Track(client);
        return client;
    }
}
