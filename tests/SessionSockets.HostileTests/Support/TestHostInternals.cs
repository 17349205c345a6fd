using SessionSockets.Connections;
using SessionSockets.Sessions;

namespace SessionSockets.HostileTests.Support;

/// <summary>What the hostile tests read from the shared host's internals: the registry and the validation cache.</summary>
internal static class TestHostInternals
{
    extension(TestHost host)
    {
        internal ConnectionRegistry Registry => host.Services.GetRequiredService<ConnectionRegistry>();

        internal SessionValidator Validator => host.Services.GetRequiredService<SessionValidator>();

        /// <summary>Waits (bounded, polling the registry) until this node holds no connection, then checks every index is empty.</summary>
        internal async Task AssertRegistryEmptyAsync(TimeSpan? within = null)
        {
            var hub = host.Registry;
            await Eventually.ThatAsync(() => hub.ConnectionCount == 0 && hub.SessionIndexCount == 0 && hub.UserIndexCount == 0, within ?? TimeSpan.FromSeconds(30),
                () => $"registry: {hub.ConnectionCount} connections, {hub.SessionIndexCount} sessions, {hub.UserIndexCount} users");
        }
    }
}
