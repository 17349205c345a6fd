namespace SessionSockets.Backplane;

/// <summary>The single-node backplane: every message is delivered straight to this node's receiver.</summary>
internal sealed class InProcessBackplane : ISessionBackplane
{
    private Func<BackplaneMessage, CancellationToken, ValueTask>? _receiver;

    public ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Volatile.Read(ref _receiver)?.Invoke(message, cancellationToken) ?? ValueTask.CompletedTask;
    }

    public IDisposable Subscribe(Func<BackplaneMessage, CancellationToken, ValueTask> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("The in-process backplane has a receiver already.");
        }

        return new Subscription(this, receiver);
    }

    private sealed class Subscription(InProcessBackplane owner, Func<BackplaneMessage, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }
}
