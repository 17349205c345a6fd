using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using SessionSockets.Testing;

namespace SessionSockets.PackageTests;

/// <summary>
/// SLOW (a few minutes). The newcomer's pages followed literally, from the packages packed in this run: README.md's
/// quickstart (Program.cs, ChatHandler.cs) in a fresh <c>dotnet new web</c> project, run and answering; the whole
/// files of docs/getting-started.md and docs/handlers.md, as the pages show them, in a fresh <c>dotnet new web</c>
/// project (built, run, logged in with the cookie, one message); docs/testing.md's whole file in a fresh
/// <c>dotnet new nunit</c> project with SessionSockets.Testing and a reference to that app, and its tests run.
/// A page whose whole file drifts from its snippet is caught by <see cref="DocsTests"/>; this fixture proves what
/// the page shows compiles and works.
/// </summary>
[TestFixture]
[Category("Package")]
[NonParallelizable]
public sealed partial class DocsConsumeTests
{
    private Feed _feed = null!;
    private string _work = null!;
    private string _app = null!;

    [OneTimeSetUp]
    public async Task CreateTheAppAsync()
    {
        _feed = await PackageFeed.GetAsync();
        _work = Path.Combine(_feed.Work, "docs");
        Directory.CreateDirectory(_work);
        await File.WriteAllTextAsync(Path.Combine(_work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{_feed.Directory}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);

        // docs/getting-started.md, step 1, then the files of steps 2 and 3; handlers.md's file beside them.
        _app = Path.Combine(_work, "MyApp");
        await DotNet.RunAsync(_work, PackageFeed.StepTimeout, "new", "web", "-o", _app, "-n", "MyApp", "--no-restore");
        await DotNet.RunAsync(_app, PackageFeed.StepTimeout, "add", "package", "SessionSockets.Sqlite", "--version", _feed.Version);

        // The other pages' whole files beside them: what scale-out, sessions and telemetry need.
        await DotNet.RunAsync(_app, PackageFeed.StepTimeout, "add", "package", "SessionSockets.PostgreSql", "--version", _feed.Version);
        await DotNet.RunAsync(_app, PackageFeed.StepTimeout, "add", "package", "SessionSockets.Redis", "--version", _feed.Version);
        foreach (var package in new[] { "OpenTelemetry.Extensions.Hosting", "OpenTelemetry.Exporter.Console" })
        {
            await DotNet.RunAsync(_app, PackageFeed.StepTimeout, "add", "package", package, "--version", CentralVersion(package));
        }

        var files = DocPages.WholeFilePages
            .Where(page => page.StartsWith("docs/", StringComparison.Ordinal) && page != "docs/testing.md")
            .SelectMany(DocPages.WholeFiles)
            .DistinctBy(file => file.Snippet)
            .ToList();
        Assert.That(files.Select(f => Path.GetFileName(f.Snippet)), Is.SupersetOf(new[] { "Program.cs", "GreetHandler.cs", "Handlers.cs", "Configuration.cs", "Sessions.cs", "ScaleOut.cs", "Telemetry.cs" }));
        Assert.That(files.Select(f => Path.GetFileName(f.Snippet)), Is.Unique);
        foreach (var (snippet, text) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(_app, Path.GetFileName(snippet)), text);
        }

        await DotNet.RunAsync(_app, PackageFeed.StepTimeout, "build", "-c", "Release");
    }

    [Test]
    public async Task GettingStarted_FreshWebApp_LoginSetsTheCookie_AndTheCookieBindsTheSocket()
    {
        using var server = DotNet.Start(_app, Path.Combine("bin", "Release", "net10.0", "MyApp.dll"), "--urls", "http://127.0.0.1:0");
        try
        {
            var baseAddress = await PackAndConsumeTests.WaitForListeningAsync(server);
            using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

            var login = await http.PostAsJsonAsync(new Uri("/login", UriKind.Relative), new { user = "alice" });
            Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            var body = await login.Content.ReadFromJsonAsync<JsonElement>();
            var setCookie = login.Headers.GetValues("Set-Cookie").Single(value => value.StartsWith("sid=", StringComparison.Ordinal));
            var attributes = setCookie.Split(';').Select(part => part.Trim().ToLowerInvariant()).ToList();
            var token = setCookie["sid=".Length..setCookie.IndexOf(';', StringComparison.Ordinal)];

            Assert.Multiple(() =>
            {
                Assert.That(attributes, Does.Contain("httponly"));
                Assert.That(attributes, Does.Contain("samesite=strict"));
                Assert.That(attributes, Does.Not.Contain("secure"), "not over http");
                Assert.That(token, Is.EqualTo(body.GetProperty("token").GetString()));
                Assert.That(body.GetProperty("expiresAt").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"));
            });

            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Cookie", "sid=" + token);
            using (var connect = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await socket.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/ws"), connect.Token);
            }

            await using var client = new SessionSocketTestClient(socket);
            var reply = await client.RequestAsync<GreetReply>("greet", new { name = "world" });
            Assert.That(reply, Is.EqualTo(new GreetReply("Hello, world!", "alice")), "bound by the cookie alone");
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
        }
    }

    [Test]
    public async Task ReadmeQuickstart_FreshWebApp_LoginTokenBindsTheSocket_EchoAndChatAnswer()
    {
        var quickstart = Path.Combine(_work, "Quickstart");
        await DotNet.RunAsync(_work, PackageFeed.StepTimeout, "new", "web", "-o", quickstart, "-n", "Quickstart", "--no-restore");
        await DotNet.RunAsync(quickstart, PackageFeed.StepTimeout, "add", "package", "SessionSockets.Sqlite", "--version", _feed.Version);
        var files = DocPages.WholeFiles("README.md");
        Assert.That(files.Select(f => Path.GetFileName(f.Snippet)), Is.EquivalentTo(new[] { "Program.cs", "ChatHandler.cs" }));
        foreach (var (snippet, text) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(quickstart, Path.GetFileName(snippet)), text);
        }

        await DotNet.RunAsync(quickstart, PackageFeed.StepTimeout, "build", "-c", "Release");
        using var server = DotNet.Start(quickstart, Path.Combine("bin", "Release", "net10.0", "Quickstart.dll"), "--urls", "http://127.0.0.1:0");
        try
        {
            var baseAddress = await PackAndConsumeTests.WaitForListeningAsync(server);
            using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
            var login = await http.PostAsync(new Uri("/login", UriKind.Relative), null);
            login.EnsureSuccessStatusCode();
            var token = await login.Content.ReadAsStringAsync();

            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            using (var connect = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await socket.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/ws"), connect.Token);
            }

            await using var client = new SessionSocketTestClient(socket);
            var echo = await client.RequestAsync("echo", new { text = "hi" });
            var chat = await client.RequestAsync("chat.send", new { text = "hello" });
            var pushed = await client.ReceiveAsync<ChatPush>("chat.message");

            Assert.Multiple(() =>
            {
                Assert.That(echo.Data.GetProperty("text").GetString(), Is.EqualTo("hi"));
                Assert.That(chat.IsError, Is.False, chat.Text);
                Assert.That(pushed, Is.EqualTo(new ChatPush("alice", "hello")));
            });
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
        }
    }

    [Test]
    public async Task Testing_FreshNUnitProject_RunsThePagesTests()
    {
        var tests = Path.Combine(_work, "MyApp.Tests");
        await DotNet.RunAsync(_work, PackageFeed.StepTimeout, "new", "nunit", "-o", tests, "-n", "MyApp.Tests", "--no-restore");
        await DotNet.RunAsync(tests, PackageFeed.StepTimeout, "add", "package", "SessionSockets.Testing", "--version", _feed.Version);
        await DotNet.RunAsync(tests, PackageFeed.StepTimeout, "add", "reference", Path.Combine("..", "MyApp", "MyApp.csproj"));
        foreach (var template in Directory.EnumerateFiles(tests, "*.cs"))
        {
            File.Delete(template);
        }

        var (snippet, text) = DocPages.WholeFiles("docs/testing.md").Single();
        await File.WriteAllTextAsync(Path.Combine(tests, Path.GetFileName(snippet)), text);
        var expected = TestAttribute().Count(text);

        var output = await DotNet.RunAsync(tests, PackageFeed.StepTimeout, "test", "-c", "Release");

        Assert.That(expected, Is.GreaterThanOrEqualTo(4), "the page's tests");
        Assert.That(output, Does.Match($@"Failed:\s+0,\s+Passed:\s+{expected},"), output);
    }

    // The version the repository builds the snippets with (Directory.Packages.props).
    private string CentralVersion(string package) =>
        XDocument.Load(Path.Combine(_feed.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => (string?)e.Attribute("Include") == package).Attribute("Version")!.Value;

    [GeneratedRegex(@"^\s*\[Test\]", RegexOptions.Multiline)]
    private static partial Regex TestAttribute();

    private sealed record GreetReply(string Greeting, string User);

    private sealed record ChatPush(string From, string Text);
}
