using System.Text.RegularExpressions;

namespace SessionSockets.PostgreSql.Store;

internal static partial class Identifiers
{
    public static void ThrowIfInvalid(string? name, string option)
    {
        if (name is null || !Identifier().IsMatch(name))
        {
            throw new ArgumentException(
                $"The option {option} ('{name}') is not a valid identifier: use a letter or underscore, then letters, digits or underscores, at most 63 characters.",
                option);
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
