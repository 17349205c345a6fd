using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;

namespace SessionSockets.Channels;

/// <summary>
/// Tells the engine this node's presence count of a (channel, user) after it changed, and publishes
/// <c>presence.join</c> / <c>presence.leave</c> when the engine says the user joined or left the whole cluster.
/// </summary>
/// <remarks>
/// Updates of one (channel, user) are serialised by a striped lock and each sends the count as it is when it runs, so
/// the engine ends with the last count however the updates interleave. Updates started from a synchronous path (a
/// session change) are tracked, so shutdown can wait for them.
/// </remarks>
internal sealed class PresenceUpdates(ChannelRegistry registry, IChannelEngine engine, TimeProvider time, ILogger logger)
{
    /// <summary>The longest one update may take on a connection's way out (close, shutdown).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 32).Select(static _ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<Task, byte> _pending = new();

    /// <summary>Sends this node's count of <paramref name="userId"/> in <paramref name="channel"/>; logs rather than throws.</summary>
    public async Task UpdateAsync(string channel, string userId, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(uint)HashCode.Combine(channel, userId) % (uint)_stripes.Length];
        try
        {
            await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var change = await engine.SetPresenceAsync(channel, userId, registry.LocalPresence(channel, userId), cancellationToken).ConfigureAwait(false);
                if (change != PresenceChange.None)
                {
                    var type = change == PresenceChange.Joined ? "presence.join" : "presence.leave";
                    var frame = EnvelopeWriter.WriteChannelRaw(type, channel, ChannelJson.UserData(userId));
                    await engine.PublishAsync(new ChannelPublication(channel, frame), cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                stripe.Release();
            }
        }
        catch (Exception ex)
        {
            Log.PresenceUpdateFailed(logger, channel, ex);
        }
    }

    /// <summary>Updates every (channel, user) of <paramref name="ended"/> that counts in presence, bounded by <see cref="Timeout"/>.</summary>
    public async Task UpdateAsync(IReadOnlyList<ChannelSubscription> ended)
    {
        using var bounded = new CancellationTokenSource(Timeout, time);
        foreach (var subscription in ended)
        {
            if (subscription.PresenceUser is { } user)
            {
                await UpdateAsync(subscription.Channel, user, bounded.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts <see cref="UpdateAsync(IReadOnlyList{ChannelSubscription})"/> from a synchronous path and tracks it until it ends.</summary>
    public void Schedule(IReadOnlyList<ChannelSubscription> ended)
    {
        var task = UpdateAsync(ended);
        if (!task.IsCompleted)
        {
            _pending.TryAdd(task, 0);
            task.ContinueWith(static (t, s) => ((ConcurrentDictionary<Task, byte>)s!).TryRemove(t, out _), _pending, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Waits for the scheduled updates still running.</summary>
    public Task FlushAsync() => Task.WhenAll(_pending.Keys);
}
