using SessionSockets.Connections;

namespace SessionSockets.Tests.Connections;

public sealed class ConnectionIndexTests
{
    [TestCase(1)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(500)]
    public void AddThenRemove_EveryConnection_LeavesNoKey(int connections)
    {
        var index = new ConnectionIndex<object>();
        var items = Enumerable.Range(0, connections).Select(_ => new object()).ToArray();
        foreach (var item in items)
        {
            index.Add("s", item);
            index.Add("s", item); // twice: still one entry
        }

        Assert.That(index.Snapshot("s"), Is.EquivalentTo(items));
        foreach (var item in items.Reverse().Where((_, i) => i % 2 == 0))
        {
            index.Remove("s", item);
        }

        Assert.That(index.Snapshot("s"), Is.EquivalentTo(items.Reverse().Where((_, i) => i % 2 == 1)));
        foreach (var item in items)
        {
            index.Remove("s", item);
        }

        Assert.Multiple(() =>
        {
            Assert.That(index.Count, Is.Zero);
            Assert.That(index.Keys, Is.Empty);
            Assert.That(index.Snapshot("s"), Is.Empty);
        });
    }

    [Test]
    public void Remove_UnknownKeyOrConnection_ChangesNothing()
    {
        var index = new ConnectionIndex<object>();
        var kept = new object();
        index.Add("a", kept);
        index.Remove("b", kept);
        index.Remove("a", new object());
        Assert.That(index.Snapshot("a"), Is.EqualTo(new[] { kept }));
        Assert.That(index.Keys, Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public async Task ConcurrentAddsAndRemoves_OnFewKeys_EndConsistent()
    {
        // Groups empty and leave the index while other threads add to the same key: nothing may be lost or left.
        var index = new ConnectionIndex<object>();
        var keys = new[] { "a", "b", "c" };
        var stayed = new object[8];
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            var mine = new object();
            for (var i = 0; i < 20_000; i++)
            {
                var key = keys[(worker + i) % keys.Length];
                index.Add(key, mine);
                index.Remove(key, mine);
            }

            stayed[worker] = mine;
            index.Add(keys[worker % keys.Length], mine);
        })));

        foreach (var key in keys)
        {
            var expected = stayed.Where((_, worker) => keys[worker % keys.Length] == key);
            Assert.That(index.Snapshot(key), Is.EquivalentTo(expected), key);
        }

        Assert.That(index.Count, Is.EqualTo(keys.Length));
    }
}
