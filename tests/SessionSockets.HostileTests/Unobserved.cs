using System.Collections.Concurrent;

namespace SessionSockets.HostileTests;

/// <summary>Records every exception that escapes unobserved (a faulted task nobody awaited) while this assembly runs.</summary>
[SetUpFixture]
public sealed class Unobserved
{
    private static readonly ConcurrentQueue<Exception> s_exceptions = new();

    /// <summary>Collects garbage (so finalizers report faulted tasks) and fails if any exception went unobserved.</summary>
    public static void AssertNone()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.That(s_exceptions, Is.Empty, "unobserved task exceptions: " + string.Join("\n", s_exceptions));
    }

    [OneTimeSetUp]
    public void Subscribe() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    [OneTimeTearDown]
    public void Unsubscribe()
    {
        TaskScheduler.UnobservedTaskException -= OnUnobserved;
        AssertNone();
    }

    private static void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => s_exceptions.Enqueue(e.Exception);
}
