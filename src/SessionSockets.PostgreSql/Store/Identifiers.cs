using System.Text.RegularExpressions;

namespace SessionSockets.PostgreSql.Store;

/// <summary>The rule for every name the provider puts in SQL (tables, columns, schemas, the channel), checked at start.</summary>
internal static partial class Identifiers
{
    public const string Rule = "use a letter or underscore, then letters, digits or underscores, at most 63 characters";

    public static bool IsValid(string? name) => name is not null && Identifier().IsMatch(name);

    // \z, not $: $ would also accept a name followed by a newline.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
