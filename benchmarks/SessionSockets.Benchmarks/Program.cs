using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/SessionSockets.Benchmarks -- --filter '*'   (benchmarks/run.sh does this)
BenchmarkSwitcher.FromAssembly(typeof(SessionSockets.Benchmarks.EchoBenchmarks).Assembly).Run(args);
