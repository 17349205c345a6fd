namespace SessionSockets.HostileTests.Support;

/// <summary>Bounded polling for a condition the test cannot be told about; fails with a description when time runs out.</summary>
internal static class Eventually
{
    public static async Task ThatAsync(Func<bool> condition, TimeSpan within, Func<string> describe)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > within)
            {
                Assert.Fail($"Not reached within {within}: {describe()}");
            }

            await Task.Delay(20);
        }
    }
}
