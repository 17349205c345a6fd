using System.Text.RegularExpressions;

namespace SessionSockets.Tests;

/// <summary>
/// The core's folders are its layers (ARCHITECTURE.md): a type may use the types of a lower layer, never of a higher or
/// a sibling one. Read from the sources: every top-level type is declared in one file, so its folder is its layer, and
/// a file depends on a layer when its code (comments and string literals left out) names a type declared there.
/// </summary>
[TestFixture]
public sealed partial class LayeringTests
{
    /// <summary>Higher numbers may use lower ones. Files at the project root are the shared contract (options).</summary>
    private static readonly Dictionary<string, int> Ranks = new(StringComparer.Ordinal)
    {
        ["Hosting"] = 9,
        ["Runtime"] = 8,
        ["Connections"] = 7,
        ["Channels"] = 6,
        ["Messaging"] = 5,
        ["Backplane"] = 5,
        ["Protocol"] = 4,
        ["Sessions"] = 3,
        ["Diagnostics"] = 2,
        [""] = 1,
    };

    private static readonly string Core = Path.Combine(FindRepositoryRoot(), "src", "SessionSockets");

    [Test]
    public void EveryFolder_IsAKnownLayer()
    {
        var folders = Directory.EnumerateDirectories(Core)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"))
            .ToList();

        Assert.That(folders, Is.SubsetOf(Ranks.Keys));
        Assert.That(folders, Does.Not.Contain("Internal"), "visibility is a keyword, not a folder");
    }

    [Test]
    public void EveryDependency_PointsToALowerLayer()
    {
        var files = SourceFiles().ToList();
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (layer, _, code) in files)
        {
            foreach (Match declaration in TypeDeclaration().Matches(code))
            {
                owners[declaration.Groups[1].Value] = layer;
            }
        }

        var violations = new List<string>();
        foreach (var (layer, path, code) in files)
        {
            foreach (Match name in Identifier().Matches(code))
            {
                if (owners.TryGetValue(name.Value, out var owner) && owner != layer && Ranks[owner] >= Ranks[layer])
                {
                    violations.Add($"{Path.GetRelativePath(Core, path)} ({layer}) uses {name.Value} ({(owner.Length == 0 ? "root" : owner)})");
                }
            }
        }

        Assert.That(violations.Distinct().Order(StringComparer.Ordinal), Is.Empty);
    }

    [Test]
    public void Namespaces_HaveNoCycle()
    {
        // Folders are layers, but a public type takes the root namespace wherever it lives: this checks the namespaces
        // themselves, so the app-facing namespace never reaches back into an internal one that uses it.
        var files = SourceFiles().Select(file => (file.Path, file.Code, Namespace: NamespaceDeclaration().Match(file.Code).Groups[1].Value)).ToList();
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, code, space) in files)
        {
            foreach (Match declaration in TypeDeclaration().Matches(code))
            {
                owners[declaration.Groups[1].Value] = space;
            }
        }

        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (_, code, space) in files)
        {
            var targets = edges.TryGetValue(space, out var found) ? found : edges[space] = new HashSet<string>(StringComparer.Ordinal);
            foreach (Match name in Identifier().Matches(code))
            {
                if (owners.TryGetValue(name.Value, out var owner) && owner != space)
                {
                    targets.Add(owner);
                }
            }
        }

        var cycles = edges.Keys
            .SelectMany(from => edges[from].Where(to => Reaches(edges, to, from)).Select(to => $"{from} -> {to}"))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.That(cycles, Is.Empty, "a namespace must not use one that uses it back");
    }

    [Test]
    public void Core_NamesNoProvider()
    {
        var named = SourceFiles()
            .Where(file => ProviderNamespace().IsMatch(file.Code))
            .Select(file => Path.GetRelativePath(Core, file.Path))
            .ToList();

        Assert.That(named, Is.Empty, "providers depend on the core's public seams, never the other way round");
    }

    [Test]
    public void EverySourceFile_IsAtMostAbout300Lines_OrSaysWhy()
    {
        var root = Path.Combine(FindRepositoryRoot(), "src");
        var long_ = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => (Path: path, Lines: File.ReadAllLines(path)))
            .Where(file => file.Lines.Length > 330 && !file.Lines.Take(12).Any(line => line.Contains("longer than", StringComparison.OrdinalIgnoreCase)))
            .Select(file => $"{Path.GetRelativePath(root, file.Path)}: {file.Lines.Length} lines")
            .ToList();

        Assert.That(long_, Is.Empty, "split the file, or say in its first comment why it is longer than about 300 lines");
    }

    private static IEnumerable<(string Layer, string Path, string Code)> SourceFiles()
    {
        foreach (var path in Directory.EnumerateFiles(Core, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Core, path);
            var first = relative.Split(Path.DirectorySeparatorChar);
            if (first[0] is "bin" or "obj")
            {
                continue;
            }

            var layer = first.Length == 1 ? string.Empty : first[0];
            yield return (layer, path, StripCommentsAndStrings(File.ReadAllText(path)));
        }
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> edges, string from, string target)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([from]);
        while (pending.TryPop(out var current))
        {
            if (current == target)
            {
                return true;
            }

            if (seen.Add(current) && edges.TryGetValue(current, out var next))
            {
                foreach (var space in next)
                {
                    pending.Push(space);
                }
            }
        }

        return false;
    }

    private static string StripCommentsAndStrings(string source)
    {
        var withoutComments = Comment().Replace(source, " ");
        return StringLiteral().Replace(withoutComments, "\"\"");
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SessionSockets.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("SessionSockets.slnx not found above the test directory.");
    }

    [GeneratedRegex(@"^(?:(?:public|internal|sealed|static|abstract|readonly|partial|file)\s+)*(?:class|record(?:\s+struct)?|struct|interface|enum)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"(?<![\w.])[A-Z]\w*")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex("\"\"\".*?\"\"\"|@\"(?:[^\"]|\"\")*\"|\\$?\"(?:[^\"\\\\\\n]|\\\\.)*\"", RegexOptions.Singleline)]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\b(?:Npgsql|Microsoft\.Data\.Sqlite|StackExchange\.Redis|SessionSockets\.(?:Sqlite|PostgreSql|Redis))\b")]
    private static partial Regex ProviderNamespace();

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();
}
