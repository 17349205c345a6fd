using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;

namespace SessionSockets.HostileTests.Runtime;

/// <summary>
/// The same-origin rule compares scheme, host and port with the request as ASP.NET Core sees it (PROTOCOL.md section 2),
/// so that behind a TLS-terminating proxy the forwarded-headers middleware decides what "same origin" means.
/// </summary>
[NonParallelizable]
public class OriginSchemeTests
{
    [TestCase("https://127.0.0.1:{PORT}", HttpStatusCode.Forbidden, TestName = "Origin_SameHostAndPortOtherScheme_Refused")]
    [TestCase("https://127.0.0.1", HttpStatusCode.Forbidden, TestName = "Origin_SameHostHttpsDefaultPort_Refused")]
    [TestCase("http://127.0.0.1", HttpStatusCode.Forbidden, TestName = "Origin_SameHostDefaultPort_Refused")]
    [TestCase("http://127.0.0.1:{OTHERPORT}", HttpStatusCode.Forbidden, TestName = "Origin_SameHostNextPort_Refused")]
    [TestCase("http://127.0.0.1:{PORT}", HttpStatusCode.SwitchingProtocols, TestName = "Origin_SameSchemeHostAndPort_Accepted")]
    public async Task Origin_PlainHttpRequest_MatchesSchemeHostAndPort(string origin, HttpStatusCode expected)
    {
        await using var host = await TestHost.StartAsync();

        var status = await host.HandshakeStatusAsync(origin: Fill(origin, host));

        Assert.That(status, Is.EqualTo(expected));
    }

    [TestCase("https://127.0.0.1:{PORT}", HttpStatusCode.SwitchingProtocols, TestName = "Origin_BehindTlsProxyHttps_Accepted")]
    [TestCase("http://127.0.0.1:{PORT}", HttpStatusCode.Forbidden, TestName = "Origin_BehindTlsProxyPlainHttp_Refused")]
    public async Task Origin_BehindForwardedHeaders_UsesTheForwardedScheme(string origin, HttpStatusCode expected)
    {
        // The documented proxy setup: the proxy (on loopback, a known proxy by default) says the client spoke TLS.
        await using var host = await TestHost.StartAsync(pipeline: app => app.UseForwardedHeaders(new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedProto,
        }));

        var status = await host.HandshakeStatusAsync(
            origin: Fill(origin, host), headers: new Dictionary<string, string> { ["X-Forwarded-Proto"] = "https" });

        Assert.That(status, Is.EqualTo(expected));
    }

    [Test]
    public async Task Origin_ForwardedProtoWithoutTheMiddleware_IsIgnored()
    {
        await using var host = await TestHost.StartAsync();

        var status = await host.HandshakeStatusAsync(
            origin: Fill("https://127.0.0.1:{PORT}", host), headers: new Dictionary<string, string> { ["X-Forwarded-Proto"] = "https" });

        Assert.That(status, Is.EqualTo(HttpStatusCode.Forbidden), "a client cannot claim TLS with a header the app does not trust");
    }

    private static string Fill(string origin, TestHost host) => origin
        .Replace("{PORT}", host.HttpUri.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{OTHERPORT}", (host.HttpUri.Port == 65535 ? 65534 : host.HttpUri.Port + 1).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
