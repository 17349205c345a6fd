using System.Reflection;

namespace SessionSockets.PackageTests;

/// <summary>
/// Packs every package once per test run into a temporary local feed, for every fixture that consumes them; removes
/// the feed and the test version from the machine's NuGet cache (the one cache folder every restore reuses) at the end.
/// </summary>
[SetUpFixture]
public sealed class PackageFeed
{
    public static readonly string[] Packages = ["SessionSockets", "SessionSockets.Sqlite", "SessionSockets.PostgreSql", "SessionSockets.Redis", "SessionSockets.Testing"];

    public static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Feed? s_feed;

    /// <summary>The feed, packed on first use.</summary>
    internal static async Task<Feed> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (s_feed is null)
            {
                var work = Directory.CreateTempSubdirectory("sessionsockets-e2e-").FullName;
                var feed = new Feed(DocPages.Root, work, Path.Combine(work, "feed"), $"0.1.0-e2e.{DateTimeOffset.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}");
                var configuration = typeof(PackageFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
                foreach (var package in Packages)
                {
                    // The test's own build already built these projects (see the project references); packing runs package validation.
                    await DotNet.RunAsync(feed.Root, StepTimeout, "pack", Path.Combine("src", package), "-c", configuration, "--no-build", "-o", feed.Directory, "-p:PackageVersion=" + feed.Version);
                }

                s_feed = feed;
            }

            return s_feed;
        }
        finally
        {
            Gate.Release();
        }
    }

    [OneTimeTearDown]
    public async Task CleanUpAsync()
    {
        if (s_feed is not { } feed)
        {
            return;
        }

        if (Directory.Exists(feed.Work))
        {
            Directory.Delete(feed.Work, recursive: true);
        }

        var listing = await DotNet.RunAsync(Path.GetTempPath(), StepTimeout, "nuget", "locals", "global-packages", "--list");
        var cache = listing[(listing.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        foreach (var package in Packages)
        {
            var folder = Path.Combine(cache, package.ToLowerInvariant(), feed.Version);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}

/// <param name="Root">The repository.</param>
/// <param name="Work">A temporary folder outside the repository for the consumer projects.</param>
/// <param name="Directory">The local feed.</param>
/// <param name="Version">A version no earlier run used, so the NuGet cache cannot hand back a stale copy.</param>
internal sealed record Feed(string Root, string Work, string Directory, string Version);
