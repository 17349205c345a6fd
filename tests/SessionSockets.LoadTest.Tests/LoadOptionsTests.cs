namespace SessionSockets.LoadTest.Tests;

/// <summary>The command-line spelling of the options added for the trickle soak: parsed, and refused clearly when wrong.</summary>
[TestFixture]
public sealed class LoadOptionsTests
{
    [Test]
    public void Parse_TrickleOptions_AreRead()
    {
        var options = Parse("--interval", "0.25", "--tokens", "a,b,c", "--close", "graceful", "--close-after", "stdin");

        Assert.Multiple(() =>
        {
            Assert.That(options.Interval, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
            Assert.That(options.Tokens, Is.EqualTo(new[] { "a", "b", "c" }));
            Assert.That(options.Close, Is.EqualTo("graceful"));
            Assert.That(options.CloseAfter, Is.EqualTo("stdin"));
        });
    }

    [Test]
    public void Parse_Defaults_AreTheBehaviourBeforeTheTrickleOptions()
    {
        var options = Parse();

        Assert.Multiple(() =>
        {
            Assert.That(options.Interval, Is.EqualTo(TimeSpan.Zero));
            Assert.That(options.Tokens, Is.Null);
            Assert.That(options.Close, Is.EqualTo("abort"));
            Assert.That(options.CloseAfter, Is.EqualTo("run"));
        });
    }

    [TestCase("--interval", "abc", "--interval: 'abc' is not a number of seconds.")]
    [TestCase("--interval", "-1", "--interval is 0..600 seconds")]
    [TestCase("--interval", "NaN", "--interval: 'NaN' is not a number of seconds.")]
    [TestCase("--interval", "601", "--interval is 0..600 seconds")]
    [TestCase("--close", "sometimes", "--close is abort or graceful.")]
    [TestCase("--close-after", "never", "--close-after is run or stdin.")]
    [TestCase("--tokens", "a,,b", "--tokens is a comma-separated list of non-empty tokens")]
    [TestCase("--tokens", "", "--tokens is a comma-separated list of non-empty tokens")]
    [TestCase("--connections", "many", "--connections: 'many' is not a whole number.")]
    public void Parse_BadValue_IsRefusedWithItsOptionNamed(string name, string value, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => Parse(name, value));

        Assert.That(ex!.Message, Does.StartWith(message));
    }

    [TestCase("--interval", "1")]
    [TestCase("--close", "graceful")]
    [TestCase("--close-after", "stdin")]
    public void Parse_PingPongOnlyOption_WithAnotherMode_IsRefused(string name, string value)
    {
        foreach (var mode in new[] { "hold", "broadcast" })
        {
            var ex = Assert.Throws<ArgumentException>(() => Parse("--mode", mode, name, value));

            Assert.That(ex!.Message, Does.Contain("--mode pingpong only"));
        }
    }

    [Test]
    public void Parse_TokenAndTokens_AreRefusedTogether()
    {
        var ex = Assert.Throws<ArgumentException>(() => Parse("--token", "a", "--tokens", "b,c"));

        Assert.That(ex!.Message, Is.EqualTo("--token and --tokens cannot be combined."));
    }

    private static LoadOptions Parse(params string[] args) => LoadOptions.Parse(Arguments.Parse(args));
}
