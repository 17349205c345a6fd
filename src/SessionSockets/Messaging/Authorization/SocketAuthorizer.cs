using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;

namespace SessionSockets.Messaging.Authorization;

/// <summary>
/// Evaluates ASP.NET Core authorization for a message: a handler's policy (the dispatcher) or a named policy with a
/// resource (the channels layer, for a namespace's subscribe rule). The principal is <see cref="MessageContext.User"/>;
/// <see cref="IAuthorizationService"/> and the policy provider come from the message's scope. Fails closed: a policy
/// that is not defined, or one that throws, refuses, with a log entry naming the requirement (never a claim's value).
/// </summary>
internal sealed class SocketAuthorizer(ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.CategoryName);

    /// <summary>Evaluates the policy named <paramref name="policy"/> for <paramref name="context"/>'s user and <paramref name="resource"/>.</summary>
    /// <returns><see langword="true"/> when the policy succeeded; <see langword="false"/> when it failed, is not defined or threw.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<bool> AuthorizeAsync(MessageContext context, string policy, object? resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrWhiteSpace(policy);
        return EvaluateAsync(context, policy, null, resource, cancellationToken);
    }

    /// <summary>Evaluates a handler's policy; the resource is the <see cref="MessageContext"/> itself.</summary>
    public ValueTask<bool> AuthorizeAsync(MessageContext context, HandlerPolicy policy, CancellationToken cancellationToken) =>
        EvaluateAsync(context, null, policy, context, cancellationToken);

    private async ValueTask<bool> EvaluateAsync(
        MessageContext context, string? policyName, HandlerPolicy? handlerPolicy, object? resource, CancellationToken cancellationToken)
    {
        try
        {
            var services = context.Services;
            var provider = services.GetService<IAuthorizationPolicyProvider>()
                ?? throw new InvalidOperationException("No authorization services are registered; call services.AddAuthorization(...).");
            var policy = handlerPolicy is not null
                ? await handlerPolicy.GetAsync(provider).ConfigureAwait(false)
                : await provider.GetPolicyAsync(policyName!).ConfigureAwait(false)
                  ?? throw new InvalidOperationException($"No authorization policy named '{policyName}' is defined; add it with services.AddAuthorization(...).");
            var result = await services.GetRequiredService<IAuthorizationService>()
                .AuthorizeAsync(context.User, resource, policy)
                .WaitAsync(cancellationToken)
                .ConfigureAwait(false);
            if (!result.Succeeded)
            {
                Log.AuthorizationDenied(_logger, context.Type, context.ConnectionId, Describe(policyName, handlerPolicy));
            }

            return result.Succeeded;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            Log.AuthorizationFailed(_logger, context.Type, context.ConnectionId, Describe(policyName, handlerPolicy), ex);
            return false;
        }
    }

    private static string Describe(string? policyName, HandlerPolicy? handlerPolicy) =>
        handlerPolicy?.Description ?? $"policy '{policyName}'";
}
