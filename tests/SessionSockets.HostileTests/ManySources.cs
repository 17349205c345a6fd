using SessionSockets.HostileTests.Support;

namespace SessionSockets.HostileTests;

/// <summary>
/// The hostile tests open thousands of connections: from one source address they would run out of ephemeral ports, so
/// the shared host's clients connect from addresses spread over 127.0.0.x, as <see cref="RawClient"/> does.
/// </summary>
[SetUpFixture]
public sealed class ManySources
{
    [OneTimeSetUp]
    public void SpreadClientSources() => TestHost.ConnectFromManySources = true;
}
