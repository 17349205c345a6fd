using SessionSockets.Connections;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Connections;

public sealed class ConnectionRegistryTests
{
    [Test]
    public async Task TryReserve_ConcurrentReserveAndRelease_NeverExceedsTheMaximum()
    {
        const int Max = 8;
        const int Workers = 4;
        var registry = new ConnectionRegistry(TestSessions.Metrics());
        var inUse = 0;
        var peak = 0;
        var granted = 0;
        using var start = new Barrier(Workers);

        void Work()
        {
            start.SignalAndWait();
            for (var i = 0; i < 20_000; i++)
            {
                if (!registry.TryReserve(Max))
                {
                    continue;
                }

                Interlocked.Increment(ref granted);
                var now = Interlocked.Increment(ref inUse);
                InterlockedMax(ref peak, now);
                Interlocked.Decrement(ref inUse);
                registry.Release();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Factory.StartNew(Work, TaskCreationOptions.LongRunning)));

        Assert.Multiple(() =>
        {
            Assert.That(peak, Is.InRange(1, Max));
            Assert.That(granted, Is.GreaterThan(0));
        });
    }

    [Test]
    public void TryReserve_AfterEveryRelease_GrantsExactlyTheMaximumAgain()
    {
        var registry = new ConnectionRegistry(TestSessions.Metrics());
        Parallel.For(0, 10_000, _ =>
        {
            if (registry.TryReserve(3))
            {
                registry.Release();
            }
        });

        var granted = Enumerable.Range(0, 5).Count(_ => registry.TryReserve(3));

        Assert.That(granted, Is.EqualTo(3));
    }

    [Test]
    public void TryReserve_ZeroMaximum_NeverRefuses()
    {
        var registry = new ConnectionRegistry(TestSessions.Metrics());

        var granted = Enumerable.Range(0, 1000).Count(_ => registry.TryReserve(0));

        Assert.That(granted, Is.EqualTo(1000));
    }

    [Test]
    public void SessionChanged_BindRebindUnbind_IndexesFollow()
    {
        using var connections = new TestConnections();
        var registry = connections.Registry;
        var a = connections.Create();
        var b = connections.Create();
        var alice1 = connections.Session("token-alice-1", "alice");
        var alice2 = connections.Session("token-alice-2", "alice");
        var bob = connections.Session("token-bob", "bob");

        registry.SessionChanged(a, null, alice1);
        registry.SessionChanged(b, null, alice2);
        Assert.Multiple(() =>
        {
            Assert.That(registry.BoundToSession(alice1.Id), Is.EqualTo(new[] { a }));
            Assert.That(registry.BoundToUser("alice"), Is.EquivalentTo(new[] { a, b }));
            Assert.That(registry.HeldSessionIds(), Is.EquivalentTo(new[] { alice1.Id, alice2.Id }));
        });

        registry.SessionChanged(b, alice2, bob);
        Assert.Multiple(() =>
        {
            Assert.That(registry.BoundToSession(alice2.Id), Is.Empty);
            Assert.That(registry.BoundToUser("alice"), Is.EqualTo(new[] { a }));
            Assert.That(registry.BoundToUser("bob"), Is.EqualTo(new[] { b }));
            Assert.That(registry.HeldSessionIds(), Is.EquivalentTo(new[] { alice1.Id, bob.Id }));
        });

        registry.SessionChanged(a, alice1, null);
        registry.SessionChanged(b, bob, null);
        Assert.Multiple(() =>
        {
            Assert.That(registry.SessionIndexCount, Is.Zero);
            Assert.That(registry.UserIndexCount, Is.Zero);
            Assert.That(registry.HeldSessionIds(), Is.Empty);
        });
    }

    [Test]
    public void AddBindThenLeave_ManyConnectionsConcurrently_LeavesEveryIndexEmpty()
    {
        using var connections = new TestConnections();
        var registry = connections.Registry;
        var sessions = Enumerable.Range(0, 20).Select(i => connections.Session("token-" + i, "user-" + (i % 5))).ToArray();
        var all = Enumerable.Range(0, 400).Select(_ => connections.Create()).ToArray();

        Parallel.For(0, all.Length, i =>
        {
            registry.Add(all[i]);
            all[i].Bind(sessions[i % sessions.Length]);
        });
        Assert.Multiple(() =>
        {
            Assert.That(registry.ConnectionCount, Is.EqualTo(all.Length));
            Assert.That(registry.SessionIndexCount, Is.EqualTo(sessions.Length));
            Assert.That(registry.UserIndexCount, Is.EqualTo(5));
            Assert.That(registry.BoundToSession(sessions[0].Id), Has.Length.EqualTo(all.Length / sessions.Length));
        });

        Parallel.For(0, all.Length, i =>
        {
            // A rebind on the way out, as a client that logs in again just before it leaves.
            all[i].Bind(sessions[(i + 1) % sessions.Length]);
            all[i].Unbind();
            registry.Remove(all[i]);
        });

        Assert.Multiple(() =>
        {
            Assert.That(registry.ConnectionCount, Is.Zero);
            Assert.That(registry.SessionIndexCount, Is.Zero);
            Assert.That(registry.UserIndexCount, Is.Zero);
        });
    }

    [Test]
    public void TryGet_AddedThenRemoved_FindsItOnlyWhileAdded()
    {
        using var connections = new TestConnections();
        var registry = connections.Registry;
        var connection = connections.Create();

        registry.Add(connection);
        var whileAdded = registry.TryGet(connection.Id, out var found);
        registry.Remove(connection);
        var afterRemove = registry.TryGet(connection.Id, out _);

        Assert.Multiple(() =>
        {
            Assert.That(whileAdded, Is.True);
            Assert.That(found, Is.SameAs(connection));
            Assert.That(afterRemove, Is.False);
        });
    }

    [Test]
    public void StopAccepting_NoConnections_IsShuttingDownAndEmptied()
    {
        var registry = new ConnectionRegistry(TestSessions.Metrics());

        registry.StopAccepting();

        Assert.Multiple(() =>
        {
            Assert.That(registry.IsShuttingDown, Is.True);
            Assert.That(registry.Emptied.IsCompleted, Is.True);
        });
    }

    [Test]
    public void StopAccepting_ConnectionsOpen_EmptiedCompletesWhenTheLastLeaves()
    {
        using var connections = new TestConnections();
        var registry = connections.Registry;
        var a = connections.Create();
        var b = connections.Create();
        registry.Add(a);
        registry.Add(b);

        registry.StopAccepting();
        registry.Remove(a);
        var afterFirst = registry.Emptied.IsCompleted;
        registry.Remove(b);

        Assert.Multiple(() =>
        {
            Assert.That(afterFirst, Is.False);
            Assert.That(registry.Emptied.IsCompleted, Is.True);
        });
    }

    [Test]
    public void Remove_NotShuttingDown_EmptiedStaysPending()
    {
        using var connections = new TestConnections();
        var registry = connections.Registry;
        var connection = connections.Create();
        registry.Add(connection);

        registry.Remove(connection);

        Assert.That(registry.Emptied.IsCompleted, Is.False);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
