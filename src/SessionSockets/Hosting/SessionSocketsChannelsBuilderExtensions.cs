using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SessionSockets;
using SessionSockets.Channels;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Declares channel namespaces and chooses the engine that carries channels between nodes.</summary>
public static class SessionSocketsChannelsBuilderExtensions
{
    /// <summary>
    /// Declares the channel namespace <paramref name="prefix"/> (such as <c>room:</c>) and its rules. A channel belongs to the
    /// namespace with the longest prefix it starts with; a name that matches none is <c>forbidden</c>. Calling this again
    /// for the same prefix adds to its rules.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="prefix">1 to 128 characters from <c>A-Z a-z 0-9 . _ : - / @</c>.</param>
    /// <param name="configure">Sets the rules: <see cref="ChannelNamespaceOptions.RequireSession"/>, <c>Authorize</c>, <see cref="ChannelNamespaceOptions.Presence"/>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a valid channel prefix.</exception>
    public static ISessionSocketsBuilder AddChannels(this ISessionSocketsBuilder builder, string prefix, Action<ChannelNamespaceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var space = Namespaces(builder.Services).GetOrAdd(prefix);
        configure?.Invoke(space);
        if (space.PolicyName is not null)
        {
            builder.Services.AddAuthorization();
        }

        return builder;
    }

    /// <summary>
    /// Uses <typeparamref name="TEngine"/> (a singleton) to carry publications and presence between nodes. Provider packages
    /// call this; the default keeps channels in process.
    /// </summary>
    /// <typeparam name="TEngine">The engine.</typeparam>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddChannelEngine<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TEngine>(this ISessionSocketsBuilder builder)
        where TEngine : class, IChannelEngine
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TEngine>();
        builder.Services.RemoveAll<IChannelEngine>();
        builder.Services.AddSingleton<IChannelEngine>(static sp => sp.GetRequiredService<TEngine>());
        return builder;
    }

    private static ChannelNamespaces Namespaces(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(ChannelNamespaces) && !descriptor.IsKeyedService && descriptor.ImplementationInstance is ChannelNamespaces found)
            {
                return found;
            }
        }

        throw new InvalidOperationException("Call services.AddSessionWebSockets() before AddChannels(...).");
    }
}
