namespace SessionSockets.Messaging;

/// <summary>The handlers registered through the builder, collected before the container is built.</summary>
internal sealed class HandlerCatalog
{
    public List<HandlerRegistration> Registrations { get; } = [];
}

/// <summary>One registered handler: a class resolved per message from a scope, or a ready instance.</summary>
internal sealed class HandlerRegistration
{
    private HandlerRegistration(Type? handlerType, IMessageHandler? instance)
    {
        HandlerType = handlerType;
        Instance = instance;
    }

    public Type? HandlerType { get; }

    public IMessageHandler? Instance { get; }

    public static HandlerRegistration ForType(Type handlerType) => new(handlerType, null);

    public static HandlerRegistration ForInstance(IMessageHandler instance) => new(null, instance);
}
