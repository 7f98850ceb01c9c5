using BgeVectorDb.Cli.Ingest;

namespace BgeVectorDb.Server.Tests.Cli;

public sealed class ProgressFormatterTests
{
    [Theory]
    [InlineData(640, 15.0, "42.7 docs/s")]
    [InlineData(5000, 4.0, "1250 docs/s")]
    [InlineData(1, 3.0, "0.3 docs/s")]
    [InlineData(0, 0.0, "0.0 docs/s")]
    [InlineData(10, 0.0, "0.0 docs/s")]
    public void Rate_uses_one_decimal_below_100_and_whole_numbers_above(long done, double seconds, string expected) =>
        Assert.Equal(expected, ProgressFormatter.Rate(done, seconds));

    [Theory]
    [InlineData(0.0, "0s")]
    [InlineData(0.2, "1s")]
    [InlineData(37.0, "37s")]
    [InlineData(60.0, "1m00s")]
    [InlineData(125.0, "2m05s")]
    [InlineData(3723.0, "1h02m03s")]
    [InlineData(90061.0, "25h01m01s")]
    public void Duration_rounds_up_to_seconds(double seconds, string expected) =>
        Assert.Equal(expected, ProgressFormatter.Duration(seconds));

    [Theory]
    [InlineData(640, 5183, 15.0, "ETA 1m47s")] // 4543 left at 42.67/s = 106.5 s
    [InlineData(50, 100, 10.0, "ETA 10s")]
    [InlineData(0, 100, 5.0, "ETA --")]
    [InlineData(100, 100, 5.0, "ETA 0s")]
    public void Eta_extrapolates_the_average_rate(long done, long total, double seconds, string expected) =>
        Assert.Equal(expected, ProgressFormatter.Eta(done, total, seconds));

    [Fact]
    public void Line_has_bar_counts_percent_rate_and_eta()
    {
        Assert.Equal("[##----------------------]  640/5183  12%  42.7 docs/s  ETA 1m47s", ProgressFormatter.Line(640, 5183, 15.0));
        Assert.Equal("[########################] 5183/5183 100%  83.5 docs/s  ETA 0s", ProgressFormatter.Line(5183, 5183, 62.04));
        Assert.Equal("[------------------------]    0/5183   0%  0.0 docs/s  ETA --", ProgressFormatter.Line(0, 5183, 0.5));
    }

    [Fact]
    public void Summary_gives_docs_seconds_and_rate() =>
        Assert.Equal("ingested 5183 docs in 62.04 s (83.5 docs/s)", ProgressFormatter.Summary(5183, 62.04));

    [Fact]
    public void Plain_reporter_writes_whole_lines_and_a_final_line()
    {
        using var writer = new StringWriter();
        var reporter = new ProgressReporter(writer, total: 100, interactive: false);
        reporter.Add(10); // first update is drawn
        reporter.Add(10); // within the plain interval: not drawn
        reporter.Finish();

        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(20, reporter.Done);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("[##----------------------]  10/100  10%", lines[0]);
        Assert.StartsWith("[####--------------------]  20/100  20%", lines[1]);
        Assert.DoesNotContain('\r', writer.ToString().Replace(Environment.NewLine, "\n"));
    }

    [Fact]
    public void Interactive_reporter_redraws_in_place_and_ends_the_line()
    {
        using var writer = new StringWriter();
        var reporter = new ProgressReporter(writer, total: 4, interactive: true);
        reporter.Add(1);
        reporter.Finish();

        var text = writer.ToString();
        Assert.StartsWith("\r[######------------------] 1/4  25%", text);
        Assert.Contains("\r[######------------------] 1/4  25%", text[1..]);
        Assert.EndsWith(Environment.NewLine, text);
        Assert.Equal(2, text.Count(c => c == '\r'));
    }
}
