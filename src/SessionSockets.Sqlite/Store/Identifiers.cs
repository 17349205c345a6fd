using System.Text.RegularExpressions;

namespace SessionSockets.Sqlite.Store;

/// <summary>The rule the core applies to table and column names, checked at start so a bad name stops the application with its configuration key.</summary>
internal static partial class Identifiers
{
    public static bool IsValid(string? name) => name is not null && Identifier().IsMatch(name);

    // \z, not $: $ would also accept a name followed by a newline.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
