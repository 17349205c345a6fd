namespace SessionSockets.Channels;

/// <summary>
/// The namespaces the application declared with <c>AddChannels</c>, collected before the container is built. A channel
/// belongs to the one with the longest prefix it starts with.
/// </summary>
internal sealed class ChannelNamespaces
{
    private readonly List<ChannelNamespaceOptions> _namespaces = [];
    private ChannelNamespaceOptions[]? _byLength;

    public IReadOnlyList<ChannelNamespaceOptions> All => _namespaces;

    /// <summary>The namespace of <paramref name="prefix"/>, created on first use (a second <c>AddChannels</c> for it adds rules).</summary>
    public ChannelNamespaceOptions GetOrAdd(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (!ChannelNames.IsValid(prefix))
        {
            throw new ArgumentException(
                $"'{prefix}' is not a valid channel prefix: use 1 to {ChannelNames.MaxLength} characters from A-Z a-z 0-9 . _ : - / @", nameof(prefix));
        }

        foreach (var existing in _namespaces)
        {
            if (existing.Prefix == prefix)
            {
                return existing;
            }
        }

        var added = new ChannelNamespaceOptions(prefix);
        _namespaces.Add(added);
        _byLength = null;
        return added;
    }

    /// <summary>The namespace <paramref name="channel"/> belongs to, or <see langword="null"/> when it matches none.</summary>
    public ChannelNamespaceOptions? Find(string channel)
    {
        var ordered = _byLength ??= [.. _namespaces.OrderByDescending(static n => n.Prefix.Length)];
        foreach (var candidate in ordered)
        {
            if (channel.StartsWith(candidate.Prefix, StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        return null;
    }
}
