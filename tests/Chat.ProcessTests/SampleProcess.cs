using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Chat.ProcessTests;

/// <summary>
/// The sample started as a process on a free loopback port with its own SQLite file: <c>dotnet Chat.dll</c> (JIT) or
/// the Native AOT binary named by <c>SESSIONSOCKETS_SAMPLE_NATIVE</c> (the test command publishes it).
/// </summary>
internal sealed class SampleProcess : IAsyncDisposable
{
    public const string NativeVariable = "SESSIONSOCKETS_SAMPLE_NATIVE";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output;

    private SampleProcess(Process process, string directory, int port, StringBuilder output)
    {
        _process = process;
        _directory = directory;
        _output = output;
        Url = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Url { get; }

    public Uri WebSocketUrl => new($"ws://127.0.0.1:{Url.Port}/ws");

    /// <summary>What the process wrote so far (stdout and stderr).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The command line for <paramref name="build"/>: <c>jit</c> or <c>native</c>; ignores the test when the native binary was not published.</summary>
    public static (string File, string[] Prefix) Command(string build)
    {
        if (build == "native")
        {
            var native = Environment.GetEnvironmentVariable(NativeVariable);
            if (string.IsNullOrEmpty(native) || !File.Exists(native))
            {
                Assert.Ignore($"{NativeVariable} names no published Native AOT binary (the test command publishes one with tests/aot.sh).");
            }

            return (native!, []);
        }

        if (Environment.GetEnvironmentVariable("SESSIONSOCKETS_SAMPLE_DLL") is { Length: > 0 } dll && File.Exists(dll))
        {
            return ("dotnet", [dll]);
        }

        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "SessionSockets.slnx")))
        {
            root = Path.GetDirectoryName(root);
        }

        Assert.That(root, Is.Not.Null, "repository root not found above the test binaries");
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var built = Path.Combine(root!, "samples", "Chat", "bin", configuration, "net10.0", "Chat.dll");
        Assert.That(File.Exists(built), Is.True, $"{built} is not built");
        return ("dotnet", [built]);
    }

    /// <summary>Starts the sample and waits until <c>/healthz</c> answers 200 (bounded), or until it exits.</summary>
    public static async Task<SampleProcess> StartAsync(string build, params string[] arguments)
    {
        var (file, prefix) = Command(build);
        var directory = Directory.CreateTempSubdirectory("sessionsockets-process-").FullName;
        var port = FreePort();
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in prefix.Concat(["--urls", $"http://127.0.0.1:{port}", "--Logging:LogLevel:Default", "Warning"]).Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sample = new SampleProcess(process, directory, port, output);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var attempt = 0; attempt < 600 && !process.HasExited; attempt++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(sample.Url, "/healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return sample;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        return sample;
    }

    /// <summary>Waits (bounded) for the process to exit by itself.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
