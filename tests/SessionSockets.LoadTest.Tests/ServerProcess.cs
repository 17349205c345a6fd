using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SessionSockets.LoadTest.Tests;

/// <summary>The sample or RawEcho started with <c>dotnet &lt;dll&gt;</c> on a free loopback port; stopped by its own process id.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private ServerProcess(Process process, string directory, Uri url)
    {
        _process = process;
        _directory = directory;
        Url = url;
    }

    public Uri Url { get; }

    public int Pid => _process.Id;

    /// <summary>The built DLL of a project in this repository (same configuration as the tests).</summary>
    public static string Dll(string projectDirectory, string name)
    {
        if (name == "Chat" && Environment.GetEnvironmentVariable("SESSIONSOCKETS_SAMPLE_DLL") is { Length: > 0 } sample && File.Exists(sample))
        {
            return sample;
        }

        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "SessionSockets.slnx")))
        {
            root = Path.GetDirectoryName(root);
        }

        Assert.That(root, Is.Not.Null, "repository root not found above the test binaries");
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(root!, projectDirectory, "bin", configuration, "net10.0", name + ".dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is not built");
        return dll;
    }

    public static async Task<ServerProcess> StartAsync(string dll, params string[] arguments)
    {
        var directory = Directory.CreateTempSubdirectory("sessionsockets-smoke-").FullName;
        var port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port}");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--ConnectionStrings:Sessions", $"Data Source={Path.Combine(directory, "sessions.db")}" }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => TestContext.Progress.WriteLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, directory, url);
        for (var attempt = 0; attempt < 300 && !process.HasExited; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        await server.DisposeAsync();
        throw new InvalidOperationException($"{dll} did not start listening on {url}");
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
