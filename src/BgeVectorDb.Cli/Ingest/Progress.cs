using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace BgeVectorDb.Cli.Ingest;

/// <summary>Text of the ingest progress line; pure functions of counts and elapsed time (invariant culture).</summary>
internal static class ProgressFormatter
{
    /// <summary>Width of the bar between the brackets, in characters.</summary>
    public const int BarWidth = 24;

    /// <summary>Documents per second: one decimal below 100 ("42.5 docs/s"), whole above ("1234 docs/s");
    /// "0.0 docs/s" when no time has passed.</summary>
    public static string Rate(long done, double elapsedSeconds, string unit = "docs")
    {
        var rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
        return rate < 100
            ? rate.ToString("0.0", CultureInfo.InvariantCulture) + " " + unit + "/s"
            : Math.Round(rate).ToString("0", CultureInfo.InvariantCulture) + " " + unit + "/s";
    }

    /// <summary>A duration as "37s", "2m05s" or "1h02m03s" (rounded up to whole seconds).</summary>
    public static string Duration(double seconds)
    {
        var total = (long)Math.Ceiling(Math.Max(0, seconds));
        var h = total / 3600;
        var m = total % 3600 / 60;
        var s = total % 60;
        return h > 0 ? $"{h}h{m:00}m{s:00}s"
            : m > 0 ? $"{m}m{s:00}s"
            : $"{s}s";
    }

    /// <summary>Estimated time left at the average rate so far: "ETA 2m05s"; "ETA --" before the first
    /// document; "ETA 0s" when done.</summary>
    public static string Eta(long done, long total, double elapsedSeconds)
    {
        if (done >= total)
        {
            return "ETA 0s";
        }
        if (done <= 0 || elapsedSeconds <= 0)
        {
            return "ETA --";
        }
        return "ETA " + Duration((total - done) * elapsedSeconds / done);
    }

    /// <summary>The whole line, e.g. "[######------------------]   640/5183  12%  42.5 docs/s  ETA 1m47s".</summary>
    public static string Line(long done, long total, double elapsedSeconds, string unit = "docs")
    {
        var fraction = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 1;
        var filled = (int)Math.Floor(fraction * BarWidth);
        var totalText = total.ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder(96);
        sb.Append('[').Append('#', filled).Append('-', BarWidth - filled).Append("] ");
        sb.Append(done.ToString(CultureInfo.InvariantCulture).PadLeft(totalText.Length)).Append('/').Append(totalText);
        sb.Append(' ').Append(((int)Math.Floor(fraction * 100)).ToString(CultureInfo.InvariantCulture).PadLeft(3)).Append('%');
        sb.Append("  ").Append(Rate(done, elapsedSeconds, unit));
        sb.Append("  ").Append(Eta(done, total, elapsedSeconds));
        return sb.ToString();
    }

    /// <summary>The final summary: "ingested 5183 docs in 62.04 s (83.5 docs/s)".</summary>
    public static string Summary(long done, double elapsedSeconds) =>
        $"ingested {done.ToString(CultureInfo.InvariantCulture)} docs in " +
        $"{elapsedSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s ({Rate(done, elapsedSeconds)})";
}

/// <summary>
/// Draws the progress line on stderr. Interactive (a terminal, CI not "true"): redrawn in place with '\r'
/// at most every 100 ms. Otherwise: one plain line at most every <see cref="PlainInterval"/>.
/// Thread-safe (acks arrive on another thread).
/// </summary>
internal sealed class ProgressReporter
{
    /// <summary>Minimum time between redraws on a terminal (about 10 per second).</summary>
    public static readonly TimeSpan InteractiveInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Minimum time between plain lines when stderr is not a terminal.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(2);

    private readonly TextWriter _writer;
    private readonly long _total;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private TimeSpan? _lastDraw;
    private int _lastLength;
    private readonly string _unit;
    private long _done;

    /// <param name="unit">What is counted, for the rate ("docs/s", "queries/s").</param>
    public ProgressReporter(TextWriter writer, long total, bool interactive, string unit = "docs")
    {
        _unit = unit;
        _writer = writer;
        _total = total;
        _interactive = interactive;
    }

    /// <summary>Documents acknowledged so far.</summary>
    public long Done => Interlocked.Read(ref _done);

    /// <summary>Seconds since the reporter was created.</summary>
    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;

    /// <summary>Adds acknowledged documents and redraws when the interval has passed.</summary>
    public void Add(long documents)
    {
        var done = Interlocked.Add(ref _done, documents);
        lock (_lock)
        {
            var now = _clock.Elapsed;
            if (_lastDraw is { } last && now - last < (_interactive ? InteractiveInterval : PlainInterval))
            {
                return;
            }
            _lastDraw = now;
            Draw(done, now.TotalSeconds);
        }
    }

    /// <summary>Draws the final state and ends the line.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            Draw(Done, ElapsedSeconds);
            if (_interactive)
            {
                _writer.WriteLine();
            }
            _writer.Flush();
        }
    }

    private void Draw(long done, double seconds)
    {
        var line = ProgressFormatter.Line(done, _total, seconds, _unit);
        if (_interactive)
        {
            var pad = _lastLength > line.Length ? new string(' ', _lastLength - line.Length) : "";
            _writer.Write("\r" + line + pad);
            _lastLength = line.Length;
        }
        else
        {
            _writer.WriteLine(line);
        }
        _writer.Flush();
    }
}
