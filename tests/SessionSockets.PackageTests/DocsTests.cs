using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.PostgreSql;
using SessionSockets.Redis;
using SessionSockets.Sqlite;

namespace SessionSockets.PackageTests;

/// <summary>
/// The docs cannot drift from the code: every C# block in them is copied from docs/snippets (which the solution
/// builds), and the telemetry page lists exactly the meter's instruments and the library's log events.
/// </summary>
[TestFixture]
public sealed partial class DocsTests
{
    private static readonly string Root = DocPages.Root;

    private static IEnumerable<string> Pages() =>
        new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md"))
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "src"), "README.md", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal);

    private static string Telemetry => File.ReadAllText(Path.Combine(Root, "docs", "telemetry.md"));

    [Test]
    public void CSharpBlocks_InEveryPage_AreCopiedFromTheSnippetsProject()
    {
        var snippets = DocPages.SnippetFiles().Values.Select(DocPages.Normalize).ToList();
        var blocks = Pages()
            .SelectMany(page => DocPages.CSharpBlocks(page)
                .Select(block => (Page: Path.GetRelativePath(Root, page), Lines: DocPages.Normalize(block))))
            .ToList();

        var missing = blocks
            .Where(block => !snippets.Any(file => DocPages.Contains(file, block.Lines)))
            .Select(block => $"{block.Page}: block starting '{block.Lines.FirstOrDefault()}'")
            .ToList();

        Assert.That(blocks, Has.Count.GreaterThanOrEqualTo(10), "the docs have C# blocks to check");
        Assert.That(missing, Is.Empty, "copy each block from docs/snippets (or change the snippet and the page together)");
    }

    [TestCaseSource(typeof(DocPages), nameof(DocPages.WholeFilePages))]
    public void CSharpBlocks_InANewcomersPage_AreWholeFilesOrExcerptsOfAWholeFileOnThePage(string page)
    {
        var blocks = DocPages.CSharpBlocks(page);
        var whole = DocPages.WholeFiles(page);
        var wholeLines = whole.Select(file => DocPages.Normalize(file.Text)).ToList();

        var loose = blocks
            .Where(block => !wholeLines.Any(file => DocPages.Contains(file, DocPages.Normalize(block))))
            .Select(block => DocPages.Normalize(block).FirstOrDefault())
            .ToList();

        Assert.That(whole, Is.Not.Empty, page + " shows at least one whole file of docs/snippets");
        Assert.That(loose, Is.Empty, page + ": every block is a whole snippet file, or an excerpt of one shown whole on the page (a collapsible 'whole file')");
    }

    [Test]
    public void TelemetryPage_ListsEveryInstrumentWithItsUnitAndNoOther()
    {
        var published = new List<Instrument>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == SessionSockets.SessionSocketsTelemetry.Name)
                {
                    published.Add(instrument);
                }
            };
            listener.Start();
            using var services = new ServiceCollection()
                .AddLogging()
                .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
                .AddSessionWebSockets().Services
                .BuildServiceProvider();
            foreach (var name in new[] { "SessionSockets.Diagnostics.SessionSocketsMetrics", "SessionSockets.Diagnostics.BackplaneMetrics" })
            {
                var metricsType = typeof(SessionSocketOptions).Assembly.GetType(name, throwOnError: true)!;
                _ = ActivatorUtilities.CreateInstance(services, metricsType);
            }
        }

        var rows = TableRows(Telemetry).Where(cells => cells[0].StartsWith("`sessionsockets.", StringComparison.Ordinal)).ToList();
        Assert.That(published, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            foreach (var instrument in published)
            {
                var row = rows.SingleOrDefault(cells => cells[0] == $"`{instrument.Name}`");
                Assert.That(row, Is.Not.Null, $"{instrument.Name} is documented");
                Assert.That(row?.Any(cell => cell == $"`{instrument.Unit}`"), Is.True, $"{instrument.Name}'s unit {instrument.Unit} is documented");
            }

            Assert.That(rows.Select(cells => cells[0].Trim('`')), Is.SubsetOf(published.Select(i => i.Name)), "no instrument is documented that does not exist");
        });
    }

    [Test]
    public void TelemetryPage_ListsEveryLogEventWithItsNameAndLevelAndNoOther()
    {
        var events = new[] { typeof(SessionSocketOptions).Assembly, typeof(SqliteStoreOptions).Assembly, typeof(PostgreSqlStoreOptions).Assembly, typeof(RedisBackplaneOptions).Assembly }
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(method => method.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToList();
        var rows = TableRows(Telemetry).Where(cells => EventId().IsMatch(cells[0])).ToList();

        Assert.That(events, Has.Count.GreaterThan(20));
        Assert.That(events.Select(e => e.EventId), Is.Unique, "event ids are unique across the packages");
        Assert.Multiple(() =>
        {
            foreach (var logEvent in events)
            {
                var row = rows.SingleOrDefault(cells => cells[0] == logEvent.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Assert.That(row, Is.Not.Null, $"event {logEvent.EventId} {logEvent.EventName} is documented");
                Assert.That(row?[1], Is.EqualTo($"`{logEvent.EventName}`"), $"event {logEvent.EventId}'s name");
                Assert.That(row?[2], Is.EqualTo(logEvent.Level.ToString()), $"event {logEvent.EventId}'s level");
            }

            Assert.That(rows.Select(cells => cells[0]), Is.SubsetOf(events.Select(e => e.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture))), "no event is documented that does not exist");
        });
    }

    [Test]
    public void Readme_LinksEveryPageOfTheDocs()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var pages = Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md").Select(p => "docs/" + Path.GetFileName(p)).ToList();

        Assert.That(pages, Is.Not.Empty);
        Assert.That(pages.Where(page => !readme.Contains("](" + page + ")", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void RelativeLinks_InEveryPage_PointAtFilesThatExist()
    {
        var broken = Pages()
            .SelectMany(page => RelativeLink().Matches(File.ReadAllText(page))
                .Select(match => (Page: page, Target: match.Groups[1].Value)))
            .Where(link => !File.Exists(Path.Combine(Path.GetDirectoryName(link.Page)!, link.Target)) && !Directory.Exists(Path.Combine(Path.GetDirectoryName(link.Page)!, link.Target)))
            .Where(link => !IsOwnedElsewhere(link.Target))
            .Select(link => $"{Path.GetRelativePath(Root, link.Page)} -> {link.Target}")
            .ToList();

        Assert.That(broken, Is.Empty);
    }

    // docs/security.md and docs/benchmarks.md are written by the issues that own them; links to them may land first.
    private static bool IsOwnedElsewhere(string target) =>
        target.EndsWith("security.md", StringComparison.Ordinal) || target.EndsWith("benchmarks.md", StringComparison.Ordinal);

    private static IEnumerable<string[]> TableRows(string markdown) =>
        markdown.Split('\n')
            .Where(line => line.StartsWith('|'))
            .Select(line => line.Trim().Trim('|').Split('|').Select(cell => cell.Trim()).ToArray());

    [GeneratedRegex(@"^\d{4}$")]
    private static partial Regex EventId();

    [GeneratedRegex(@"\]\((?!https?:|#|mailto:)([^)#\s]+)(?:#[^)]*)?\)")]
    private static partial Regex RelativeLink();
}
