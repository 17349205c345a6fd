using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SessionSockets;

namespace DocsSnippets;

// docs/telemetry.md
public static class Telemetry
{
    public static void OpenTelemetry(WebApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(SessionSocketsTelemetry.Name)       // "SessionSockets"
                .AddConsoleExporter())
            .WithTracing(tracing => tracing
                .AddSource(SessionSocketsTelemetry.Name)
                .AddConsoleExporter());
    }

    public static void Logging(WebApplicationBuilder builder)
    {
        // Every SessionSockets category starts with "SessionSockets".
        builder.Logging.AddFilter("SessionSockets", LogLevel.Debug);
    }
}
