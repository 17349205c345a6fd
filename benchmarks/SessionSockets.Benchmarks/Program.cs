using BenchmarkDotNet.Running;
using SessionSockets.Benchmarks;

// dotnet run -c Release --project benchmarks/SessionSockets.Benchmarks -- --filter '*'   (benchmarks/run.sh does this)
// Two measurements that are not BenchmarkDotNet's, each in a fresh process (benchmarks/run.sh runs them too):
//   channel-memory [--connections 10000] [--subscriptions 10] [--channels 1000]   heap and RSS with N x K subscriptions
//   two-nodes [--connection-string CS | $SESSIONSOCKETS_PG] [--publishers 4] [--subscribers 1] [--warmup 1] [--duration 5]
//             [--history 1] [--engine postgres|redis] [--redis HOST:PORT | $SESSIONSOCKETS_REDIS]
//   revocations [--connection-string CS] [--count 200] [--engine postgres|redis] [--redis HOST:PORT]   revoke on A, close on B
//   history-bytes [--engine inprocess|sqlite|postgresql] [--publications 100000]   history bytes per stored publication
//   channel-publish [--engine sqlite|inprocess] [--history 1|0] [--write-behind 0|1] [--publishers 8] [--subscribers 1] [--window 4096] [--warmup 1] [--duration 5]
// Exit code 0 when the run checked out (no failed subscription; no missing, duplicate or reordered delivery), 1 otherwise.
try
{
    switch (args.FirstOrDefault())
    {
        case "channel-memory":
            return await ChannelMemory.RunAsync(ChannelMemory.ParseArguments(args.AsSpan(1)), Console.Out);
        case "two-nodes":
            return await TwoNodeChannels.RunAsync(ChannelMemory.ParseArguments(args.AsSpan(1)), Console.Out);
        case "history-bytes":
            return await HistoryBytes.RunAsync(ChannelMemory.ParseArguments(args.AsSpan(1)), Console.Out);
        case "channel-publish":
            return await ChannelPublish.RunAsync(ChannelMemory.ParseArguments(args.AsSpan(1)), Console.Out);
        case "revocations":
            return await TwoNodeRevocations.RunAsync(ChannelMemory.ParseArguments(args.AsSpan(1)), Console.Out);
        default:
            BenchmarkSwitcher.FromAssembly(typeof(EchoBenchmarks).Assembly).Run(args);
            return 0;
    }
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
