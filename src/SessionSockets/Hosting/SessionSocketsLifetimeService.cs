using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;
using SessionSockets.Channels;
using SessionSockets.Connections;
using SessionSockets.Messaging;
using SessionSockets.Runtime;

namespace SessionSockets.Hosting;

/// <summary>
/// Connects the backplane to its receiver (and the receiver's resynchronisations to the maintenance pass) at start,
/// checks that every authorization policy a handler names is defined, and on <c>ApplicationStopping</c> drains the connections, bounded by <see cref="SessionSocketOptions.ShutdownTimeout"/>.
/// </summary>
internal sealed class SessionSocketsLifetimeService(
    BackplaneReceiver receiver,
    ConnectionDrain drain,
    ISessionBackplane backplane,
    SessionMaintenanceService maintenance,
    MessageDispatcher dispatcher,
    ChannelNamespaces namespaces,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    IOptions<SessionSocketOptions> options) : IHostedService, IDisposable
{
    private IDisposable? _subscription;
    private CancellationTokenRegistration _stopping;
    private Task? _shutdown;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A misspelt policy name would refuse every message of its type (or every subscription of a namespace): stop
        // the app at start instead.
        foreach (var (type, policy) in dispatcher.RequiredPolicies)
        {
            await RequirePolicyAsync(policy, $"The handler for '{type}'").ConfigureAwait(false);
        }

        foreach (var space in namespaces.All)
        {
            if (space.PolicyName is { } policy)
            {
                await RequirePolicyAsync(policy, $"The channel namespace '{space.Prefix}'").ConfigureAwait(false);
            }
        }

        receiver.ResynchronizeRequested += maintenance.RequestRevalidation;
        _subscription = backplane.Subscribe(receiver.ReceiveAsync);
        _stopping = lifetime.ApplicationStopping.Register(static s => ((SessionSocketsLifetimeService)s!).BeginShutdown(), this);
    }

    private async Task RequirePolicyAsync(string policy, string requiredBy)
    {
        var policies = services.GetRequiredService<IAuthorizationPolicyProvider>();
        if (await policies.GetPolicyAsync(policy).ConfigureAwait(false) is null)
        {
            throw new InvalidOperationException(
                $"{requiredBy} requires the authorization policy '{policy}', which is not defined. " +
                $"Add it with services.AddAuthorization(o => o.AddPolicy(\"{policy}\", ...)).");
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginShutdown();
        try
        {
            await _shutdown!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _subscription?.Dispose();
        receiver.ResynchronizeRequested -= maintenance.RequestRevalidation;
    }

    private void BeginShutdown()
    {
        lock (this)
        {
            _shutdown ??= drain.DrainAsync(options.Value.ShutdownTimeout, CancellationToken.None);
        }
    }
}
