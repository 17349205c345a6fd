using System.Reflection;
using SessionSockets.Messaging.Authorization;

namespace SessionSockets.Messaging;

/// <summary>The handlers registered through the builder, collected before the container is built.</summary>
internal sealed class HandlerCatalog
{
    public List<HandlerRegistration> Registrations { get; } = [];
}

/// <summary>
/// One registered handler: a class resolved per message from a scope, or a ready instance; and what it requires of
/// authorization (its attributes, read here once, and what the mapping added).
/// </summary>
internal sealed class HandlerRegistration
{
    private HandlerRegistration(Type? handlerType, IMessageHandler? instance, HandlerAuthorization authorization)
    {
        HandlerType = handlerType;
        Instance = instance;
        Authorization = authorization;
    }

    public Type? HandlerType { get; }

    public IMessageHandler? Instance { get; }

    public HandlerAuthorization Authorization { get; }

    public static HandlerRegistration ForType(Type handlerType) => new(handlerType, null, HandlerAuthorization.FromAttributes(handlerType));

    /// <param name="instance">The handler.</param>
    /// <param name="method">The application's delegate method, whose <c>[Authorize]</c> attributes count as the handler's.</param>
    public static HandlerRegistration ForInstance(IMessageHandler instance, MethodInfo? method = null) =>
        new(null, instance, method is null ? new HandlerAuthorization() : HandlerAuthorization.FromAttributes(method));
}
