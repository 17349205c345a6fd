using System.Diagnostics;
using System.Net.Sockets;

namespace SessionSockets.LoadTest;

/// <summary>A server for the suite: the DLL to start, its name in the tables and its arguments.</summary>
internal sealed record ServerSpec(string Name, string Dll, string[] Arguments);

/// <summary>A server this suite started (and only that one is stopped, by its own process id).</summary>
internal sealed class SuiteServer : IAsyncDisposable
{
    private readonly Process _process;

    private SuiteServer(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public int Pid => _process.Id;

    public static async Task<SuiteServer> StartAsync(ServerSpec spec, int port, string work, TextWriter log, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateDirectory(Path.Combine(work, "server-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var url = new Uri($"http://127.0.0.1:{port}");
        try
        {
            using var taken = new TcpClient();
            await taken.ConnectAsync(url.Host, port, cancellationToken);
            throw new InvalidOperationException($"port {port} is already in use: another server would be measured (--port, PORT=)");
        }
        catch (SocketException)
        {
            // Free: nobody listens there.
        }

        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(spec.Dll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(url.ToString().TrimEnd('/'));
        info.ArgumentList.Add("--ConnectionStrings:Sessions");
        info.ArgumentList.Add($"Data Source={Path.Combine(directory, "sessions.db")}");
        foreach (var argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                log.WriteLine($"[{spec.Name} stderr] {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new SuiteServer(process, url);
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{spec.Name} exited with {process.ExitCode} at start");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(url.Host, port, cancellationToken);
                log.WriteLine($"== {spec.Name} (pid {process.Id}) on {url}");
                await Task.Delay(500, cancellationToken);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }

        await server.DisposeAsync();
        throw new InvalidOperationException($"{spec.Name} did not listen on {url} within 30 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _process.Dispose();
    }
}
