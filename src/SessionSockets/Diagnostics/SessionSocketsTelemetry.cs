namespace SessionSockets;

/// <summary>Names of the library's meter, activity source and instruments, for wiring up telemetry.</summary>
public static class SessionSocketsTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and the <see cref="System.Diagnostics.ActivitySource"/>: <c>SessionSockets</c>.</summary>
    public const string Name = "SessionSockets";
}
