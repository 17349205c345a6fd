using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using SessionSockets.Testing;

namespace SessionSockets.PackageTests;

/// <summary>
/// SLOW (a minute or two: it packs, restores, builds and runs an application). Packs every package into a temporary
/// local feed, creates a fresh <c>dotnet new web</c> project outside the repository, adds SessionSockets.Sqlite from
/// that feed (nuget.org for its dependencies), writes a Program.cs with a custom handler, builds it, runs it on a
/// loopback port, logs in through the repository, exchanges messages over a WebSocket, and shuts it down. Proves the
/// packages are complete: no missing dependency, no missing file. Every step is bounded by a timeout.
/// </summary>
[TestFixture]
[Category("Package")]
[NonParallelizable]
public sealed partial class PackAndConsumeTests
{
    private static readonly string[] Packages = PackageFeed.Packages;
    private static readonly TimeSpan StepTimeout = PackageFeed.StepTimeout;

    private string _work = null!;
    private string _feed = null!;
    private string _version = null!;

    [OneTimeSetUp]
    public async Task PackAsync()
    {
        var feed = await PackageFeed.GetAsync();
        _work = Path.Combine(feed.Work, "consumer");
        Directory.CreateDirectory(_work);
        _feed = feed.Directory;
        _version = feed.Version;
    }

    [Test]
    public void Pack_EveryPackage_HasLicenseReadmeDocsAndSymbols()
    {
        foreach (var package in Packages)
        {
            using var nupkg = ZipFile.OpenRead(Path.Combine(_feed, $"{package}.{_version}.nupkg"));
            using var snupkg = ZipFile.OpenRead(Path.Combine(_feed, $"{package}.{_version}.snupkg"));
            var entries = nupkg.Entries.Select(e => e.FullName).ToList();
            var nuspec = ReadNuspec(nupkg, package);
            var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string? Meta(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

            Assert.Multiple(() =>
            {
                Assert.That(entries, Does.Contain($"lib/net10.0/{package}.dll"), package);
                Assert.That(entries, Does.Contain($"lib/net10.0/{package}.xml"), package + ": XML docs for IntelliSense");
                Assert.That(entries, Does.Contain("README.md"), package);
                Assert.That(entries, Has.None.EndsWith(".pdb"), package + ": symbols go to the snupkg");
                Assert.That(snupkg.Entries.Select(e => e.FullName), Does.Contain($"lib/net10.0/{package}.pdb"), package);
                Assert.That(Meta("id"), Is.EqualTo(package));
                Assert.That(Meta("version"), Is.EqualTo(_version));
                Assert.That(Meta("license"), Is.EqualTo("MIT"), package);
                Assert.That(Meta("readme"), Is.EqualTo("README.md"), package);
                Assert.That(Meta("description"), Is.Not.Empty, package);
                Assert.That(ReadEntry(nupkg, "README.md"), Does.Contain(package), package + ": its own README");
            });
        }
    }

    [Test]
    public void ConsumerApp_HandlersHubRepositoryAndLogin_NeedOnlyTheSessionSocketsNamespace()
    {
        var usings = File.ReadAllLines(Path.Combine(TestContext.CurrentContext.TestDirectory, "ConsumerApp", "Program.cs"))
            .Where(line => line.StartsWith("using ", StringComparison.Ordinal))
            .ToList();

        Assert.That(usings, Is.EqualTo(new[] { "using SessionSockets;" }));
    }

    [Test]
    public async Task ConsumeSqlitePackage_FreshWebProjectWithCustomHandler_ServesAuthenticatedMessages()
    {
        var app = Path.Combine(_work, "app");
        await File.WriteAllTextAsync(Path.Combine(_work, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        await DotNet.RunAsync(_work, StepTimeout, "new", "web", "-o", app, "-n", "ConsumerApp", "--no-restore");
        await DotNet.RunAsync(app, StepTimeout, "add", "package", "SessionSockets.Sqlite", "--version", _version, "--source", _feed);
        File.Copy(Path.Combine(TestContext.CurrentContext.TestDirectory, "ConsumerApp", "Program.cs"), Path.Combine(app, "Program.cs"), overwrite: true);
        await DotNet.RunAsync(app, StepTimeout, "build", "-c", "Release");

        using var server = DotNet.Start(app, Path.Combine("bin", "Release", "net10.0", "ConsumerApp.dll"), "--urls", "http://127.0.0.1:0");
        try
        {
            var baseAddress = await WaitForListeningAsync(server);
            using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

            Assert.That(await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)), Is.EqualTo("Healthy"));
            var login = await http.PostAsJsonAsync(new Uri("/login", UriKind.Relative), new { user = "alice" });
            login.EnsureSuccessStatusCode();
            var token = (await login.Content.ReadFromJsonAsync<LoginReply>())!.Token;

            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            using (var connect = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await socket.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/ws"), connect.Token);
            }

            await using var client = new SessionSocketTestClient(socket);
            var reply = await client.RequestAsync<GreetReply>("greet", new { name = "world" });
            var invalid = await client.RequestAsync("greet", new { name = 5 });
            var shout = await client.RequestAsync("shout", new { text = "hey" });
            var shouted = await client.ReceiveAsync<ShoutedPush>("shouted");
            var pong = await client.RequestAsync("ping");

            Assert.Multiple(() =>
            {
                Assert.That(reply, Is.EqualTo(new GreetReply("Hello, world!", "alice")));
                Assert.That(invalid.ErrorCode, Is.EqualTo(ErrorCodes.InvalidData));
                Assert.That(shout.IsError, Is.False, shout.Text);
                Assert.That(shouted.Text, Is.EqualTo("HEY"));
                Assert.That(pong.Type, Is.EqualTo("ping"));
            });

            (await http.PostAsync(new Uri("/shutdown", UriKind.Relative), null)).EnsureSuccessStatusCode();
            Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable), "graceful shutdown closes with 1001");
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await server.WaitForExitAsync(exit.Token);
            Assert.That(server.ExitCode, Is.Zero);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }
        }
    }

    internal static async Task<Uri> WaitForListeningAsync(Process server)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        while (await server.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            seen.Add(line);
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                // Keep draining the output so the application never blocks on a full pipe.
                _ = server.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                _ = server.StandardError.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new InvalidOperationException("The application exited before listening:\n" + string.Join('\n', seen) + "\n" + await server.StandardError.ReadToEndAsync(deadline.Token));
    }

    private static XDocument ReadNuspec(ZipArchive package, string id) => XDocument.Parse(ReadEntry(package, id + ".nuspec"));

    private static string ReadEntry(ZipArchive package, string name)
    {
        using var reader = new StreamReader(package.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();

    private sealed record LoginReply(string Token);

    private sealed record GreetReply(string Greeting, string User);

    private sealed record ShoutedPush(string Text);
}
