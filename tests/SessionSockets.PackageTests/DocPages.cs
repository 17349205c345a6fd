using System.Text.RegularExpressions;

namespace SessionSockets.PackageTests;

/// <summary>
/// The C# of the docs pages: every <c>```csharp</c> block, and which of them are whole files of
/// <c>docs/snippets</c> (a page shows such a file in full, or in a collapsible "whole file" under its excerpts).
/// </summary>
internal static partial class DocPages
{
    /// <summary>The pages with C# (the package READMEs aside): every block on them is a whole file, or an excerpt of one the page shows whole.</summary>
    public static readonly string[] WholeFilePages =
    [
        "README.md", "docs/getting-started.md", "docs/handlers.md", "docs/testing.md",
        "docs/configuration.md", "docs/sessions.md", "docs/scale-out.md", "docs/telemetry.md", "docs/troubleshooting.md",
    ];

    public static string Root { get; } = FindRepositoryRoot();

    /// <summary>Every <c>.cs</c> file under docs/snippets (bin and obj left out), by its path from the repository root.</summary>
    public static IReadOnlyDictionary<string, string> SnippetFiles() =>
        Directory.EnumerateFiles(Path.Combine(Root, "docs", "snippets"), "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal)
            .ToDictionary(file => Path.GetRelativePath(Root, file), File.ReadAllText, StringComparer.Ordinal);

    /// <summary>The text of every C# block of a page, in order.</summary>
    public static List<string> CSharpBlocks(string page) =>
        CSharpBlock().Matches(File.ReadAllText(Path.Combine(Root, page))).Select(match => match.Groups[1].Value).ToList();

    /// <summary>
    /// The blocks of <paramref name="page"/> that are whole snippet files, exactly (apart from the final newline),
    /// with the snippet file each one is: the page's own text is what a test compiles.
    /// </summary>
    public static List<(string Snippet, string Text)> WholeFiles(string page)
    {
        var snippets = SnippetFiles();
        return CSharpBlocks(page)
            .Select(block => (Snippet: snippets.FirstOrDefault(pair => Same(pair.Value, block)).Key, Text: block))
            .Where(pair => pair.Snippet is not null)
            .ToList();
    }

    public static List<string> Normalize(string text) =>
        text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToList();

    /// <summary>Whether <paramref name="block"/>'s lines (trimmed, blank lines left out) appear in order in <paramref name="file"/>.</summary>
    public static bool Contains(List<string> file, List<string> block)
    {
        for (var start = 0; start + block.Count <= file.Count; start++)
        {
            var i = 0;
            while (i < block.Count && file[start + i] == block[i])
            {
                i++;
            }

            if (i == block.Count)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Same(string file, string block) =>
        string.Equals(file.ReplaceLineEndings("\n").TrimEnd('\n'), block.ReplaceLineEndings("\n").TrimEnd('\n'), StringComparison.Ordinal);

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SessionSockets.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (SessionSockets.slnx) is not above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
