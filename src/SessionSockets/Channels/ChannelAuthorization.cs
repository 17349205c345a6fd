namespace SessionSockets;

/// <summary>Decides whether the connection that sent <paramref name="context"/> may subscribe to <paramref name="channel"/>.</summary>
/// <param name="context">The <c>subscribe</c> message and its connection.</param>
/// <param name="channel">The channel asked for.</param>
/// <param name="cancellationToken">Cancelled when the connection closes or the handler times out.</param>
/// <returns><see langword="true"/> to admit the subscription; <see langword="false"/> answers <c>forbidden</c>.</returns>
public delegate ValueTask<bool> ChannelAuthorization(MessageContext context, string channel, CancellationToken cancellationToken);
