using System.Net;
using Microsoft.Data.Sqlite;

namespace SessionSockets.HostileTests.Sessions;

/// <summary>
/// The SQLite store made unavailable while the server runs (its directory moved away, as an unmounted volume would be):
/// handshakes that need the store answer 503, <c>session</c> answers <c>unavailable</c>, bound connections keep working
/// on their cached validity, maintenance failures stay warnings, and everything recovers by itself.
/// </summary>
[NonParallelizable]
public class StoreFaultTests
{
    [Test]
    public async Task SqliteLocked_HandshakeIs503_SessionIsUnavailable_BoundKeepsWorking_ThenRecovers()
    {
        await using var host = await TestHost.StartAsync(o => o.RevalidationInterval = TimeSpan.FromMilliseconds(200));
        var held = await host.LoginAsync("held");
        var later = await host.LoginAsync("later");
        using var bound = await host.ConnectAsync(bearer: held.Token);
        Assert.That((await bound.RequestAsync("whoami", "w0")).GetProperty("data").Str("userId"), Is.EqualTo("held"));
        using var anonymous = await host.ConnectAsync();
        var maintenanceFailuresBefore = host.Logs.Count(3009);

        using (MakeUnavailable(host.DatabasePath!))
        {
            Assert.That(await host.HandshakeStatusAsync(bearer: later.Token), Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            var unavailable = await anonymous.RequestAsync("session", "s1", new { sessionId = later.Token });
            Assert.That(unavailable.Status(), Is.EqualTo("unavailable"));
            Assert.That(unavailable.Str("id"), Is.EqualTo("s1"));
            Assert.That((await anonymous.RequestAsync("ping", "p1")).Str("type"), Is.EqualTo("ping"), "the unbound connection stays open");

            // Maintenance keeps failing in the background; the bound connection works on its cached session throughout.
            for (var i = 0; i < 20; i++)
            {
                var reply = await bound.RequestAsync("whoami", $"w{i + 1}");
                Assert.That(reply.GetProperty("data").Str("userId"), Is.EqualTo("held"));
            }

            await host.Logs.WaitForCountAsync(e => e.EventId.Id == 3009, maintenanceFailuresBefore + 2, TimeSpan.FromSeconds(30));
            Assert.That((await bound.RequestAsync("whoami", "w-last")).GetProperty("data").Str("userId"), Is.EqualTo("held"),
                "failed revalidation does not revoke a session");
        }

        // Recovery needs nothing but the store coming back.
        Assert.That(await host.HandshakeStatusAsync(bearer: later.Token), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
        Assert.That((await anonymous.RequestAsync("session", "s2", new { sessionId = later.Token })).Status(), Is.EqualTo("valid"));
        Assert.That((await anonymous.RequestAsync("whoami", "w")).GetProperty("data").Str("userId"), Is.EqualTo("later"));
        Assert.That((await bound.RequestAsync("whoami", "w-after")).GetProperty("data").Str("userId"), Is.EqualTo("held"));
        await host.Sessions.DeleteAsync(held.Token);
        var pushes = await bound.ReceiveUntilCloseAsync();
        Assert.That(pushes.Single().Status(), Is.EqualTo("revoked"), "revocation works again after the outage");

        Assert.That(host.Logs.Faults(), Is.Empty, string.Join("\n", host.Logs.Faults().Take(3)));
        Assert.That(host.Logs.Count(3003), Is.GreaterThanOrEqualTo(2), "each refusal logged StoreUnavailable as a warning");
        Unobserved.AssertNone();
    }

    /// <summary>
    /// Moves the database's directory away (pooled connections dropped, so every command must open the file anew and
    /// fails: "unable to open database file"); disposing moves it back.
    /// </summary>
    private static Restore MakeUnavailable(string databasePath)
    {
        var directory = Path.GetDirectoryName(databasePath)!;
        var away = directory + ".away";
        SqliteConnection.ClearAllPools();
        Directory.Move(directory, away);
        SqliteConnection.ClearAllPools();
        return new Restore(() => Directory.Move(away, directory));
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
