namespace SessionSockets.Backplane;

/// <summary>Reads and checks the keys of <see cref="BackplaneOptions"/>; no message ever quotes a key.</summary>
internal static class BackplaneKeys
{
    private const string KeyName = BackplaneOptions.SectionName + ":" + nameof(BackplaneOptions.Key);
    private const string KeysName = BackplaneOptions.SectionName + ":" + nameof(BackplaneOptions.Keys);

    /// <summary>The errors in the options' keys, each naming its configuration key.</summary>
    public static IEnumerable<string> Errors(BackplaneOptions options)
    {
        if (options.Key is null && options.Keys.Count == 0)
        {
            yield return $"{KeyName} is required by the distributed backplane: {BackplaneOptions.KeyLength} hexadecimal characters (32 bytes), "
                + "the same on every node (generate one with `openssl rand -hex 32`).";
            yield break;
        }

        if (options.Key is not null && Error(options.Key, KeyName) is { } keyError)
        {
            yield return keyError;
        }

        for (var i = 0; i < options.Keys.Count; i++)
        {
            if (Error(options.Keys[i], $"{KeysName}:{i}") is { } error)
            {
                yield return error;
            }
        }
    }

    /// <summary>The keys as bytes, the signing one first.</summary>
    public static byte[][] Parse(BackplaneOptions options)
    {
        if (Errors(options).FirstOrDefault() is { } error)
        {
            throw new InvalidOperationException(error);
        }

        var texts = options.Key is null ? options.Keys : [options.Key, .. options.Keys];
        return [.. texts.Select(static k => Convert.FromHexString(k.Trim()))];
    }

    private static string? Error(string? key, string name)
    {
        var trimmed = key?.Trim() ?? string.Empty;
        if (trimmed.Length != BackplaneOptions.KeyLength)
        {
            return $"{name} must be {BackplaneOptions.KeyLength} hexadecimal characters (32 bytes); it has {trimmed.Length}.";
        }

        foreach (var c in trimmed)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return $"{name} must be {BackplaneOptions.KeyLength} hexadecimal characters (0-9, a-f); it has other characters.";
            }
        }

        return null;
    }
}
