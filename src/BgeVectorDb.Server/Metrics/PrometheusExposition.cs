using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace BgeVectorDb.Server.Metrics;

/// <summary>
/// Listens to every System.Diagnostics.Metrics instrument of the meters whose name starts with a prefix
/// ("BgeVectorDb": engine and server) and renders them in the Prometheus text exposition format 0.0.4.
/// Counters are exported as NAME_total, up-down counters and gauges as gauges, histograms with buckets
/// chosen by unit (seconds, ratios "1", row counts). Observable instruments are read at each scrape, so a
/// series whose object is gone (a deleted collection) disappears.
/// </summary>
internal sealed class PrometheusExposition : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _states = new();
    private readonly Lock _scrape = new();

    public PrometheusExposition(string meterPrefix = "BgeVectorDb")
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!instrument.Meter.Name.StartsWith(meterPrefix, StringComparison.Ordinal)) return;
            var state = new InstrumentState(instrument);
            _states[instrument] = state;
            listener.EnableMeasurementEvents(instrument, state);
        };
        _listener.MeasurementsCompleted = (instrument, _) => _states.TryRemove(instrument, out InstrumentState? _);
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>The current text exposition (observable instruments are read now).</summary>
    public string Scrape()
    {
        lock (_scrape)
        {
            var states = _states.Values.OrderBy(s => s.ExportName, StringComparer.Ordinal).ToArray();
            foreach (var s in states) s.BeginScrape();
            _listener.RecordObservableInstruments();
            var text = new StringBuilder(4096);
            foreach (var s in states) s.Write(text);
            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    private sealed class InstrumentState
    {
        private static readonly double[] SecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
        private static readonly double[] RatioBuckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];
        private static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

        private readonly Lock _lock = new();
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly Kind _kind;
        private readonly bool _observable;
        private readonly bool _cumulative; // a measurement is the new value (gauges, observable counters), not an increment
        private readonly double[] _buckets = [];
        private readonly string _help;

        public InstrumentState(Instrument instrument)
        {
            var type = instrument.GetType().GetGenericTypeDefinition();
            _observable = instrument.IsObservable;
            if (type == typeof(Counter<>) || type == typeof(ObservableCounter<>))
            {
                _kind = Kind.Counter;
                ExportName = instrument.Name.EndsWith("_total", StringComparison.Ordinal) ? instrument.Name : instrument.Name + "_total";
            }
            else if (type == typeof(Histogram<>))
            {
                _kind = Kind.Histogram;
                ExportName = instrument.Name;
                _buckets = instrument.Unit switch
                {
                    "s" => SecondsBuckets,
                    "1" => RatioBuckets,
                    _ => CountBuckets,
                };
            }
            else
            {
                _kind = Kind.Gauge;
                ExportName = instrument.Name;
            }
            _cumulative = _observable || type == typeof(Gauge<>);
            _help = (instrument.Description ?? instrument.Name).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        }

        public string ExportName { get; }

        public void BeginScrape()
        {
            if (!_observable) return;
            lock (_lock) _series.Clear();
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            lock (_lock)
            {
                if (!_series.TryGetValue(labels, out var s))
                {
                    s = new Series(labels, _kind == Kind.Histogram ? new long[_buckets.Length] : null);
                    _series.Add(labels, s);
                }
                switch (_kind)
                {
                    case Kind.Histogram:
                        var i = Array.BinarySearch(_buckets, value);
                        if (i < 0) i = ~i;
                        if (i < _buckets.Length) s.Buckets![i]++;
                        s.Count++;
                        s.Value += value;
                        break;
                    default:
                        s.Value = _cumulative ? value : s.Value + value;
                        break;
                }
            }
        }

        public void Write(StringBuilder text)
        {
            text.Append("# HELP ").Append(ExportName).Append(' ').Append(_help).Append('\n');
            text.Append("# TYPE ").Append(ExportName).Append(' ').Append(_kind switch
            {
                Kind.Counter => "counter",
                Kind.Histogram => "histogram",
                _ => "gauge",
            }).Append('\n');
            lock (_lock)
            {
                foreach (var s in _series.Values.OrderBy(s => s.Labels, StringComparer.Ordinal))
                {
                    if (_kind != Kind.Histogram)
                    {
                        Sample(text, ExportName, s.Labels, null, s.Value);
                        continue;
                    }
                    long cumulative = 0;
                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        cumulative += s.Buckets![i];
                        Sample(text, ExportName + "_bucket", s.Labels, Format(_buckets[i]), cumulative);
                    }
                    Sample(text, ExportName + "_bucket", s.Labels, "+Inf", s.Count);
                    Sample(text, ExportName + "_sum", s.Labels, null, s.Value);
                    Sample(text, ExportName + "_count", s.Labels, null, s.Count);
                }
            }
        }

        private static void Sample(StringBuilder text, string name, string labels, string? le, double value)
        {
            text.Append(name);
            if (labels.Length > 0 || le is not null)
            {
                text.Append('{').Append(labels);
                if (le is not null) text.Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
                text.Append('}');
            }
            text.Append(' ').Append(Format(value)).Append('\n');
        }

        /// <summary>Sorted label pairs rendered as k="v",... (also the series key).</summary>
        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0) return "";
            var pairs = new KeyValuePair<string, object?>[tags.Length];
            tags.CopyTo(pairs);
            Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var sb = new StringBuilder();
            foreach (var (key, value) in pairs)
            {
                if (sb.Length > 0) sb.Append(',');
                sb.Append(key).Append("=\"");
                foreach (var c in Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")
                {
                    _ = c switch
                    {
                        '\\' => sb.Append("\\\\"),
                        '"' => sb.Append("\\\""),
                        '\n' => sb.Append("\\n"),
                        _ => sb.Append(c),
                    };
                }
                sb.Append('"');
            }
            return sb.ToString();
        }

        private static string Format(double value) => double.IsPositiveInfinity(value) ? "+Inf"
            : double.IsNegativeInfinity(value) ? "-Inf"
            : double.IsNaN(value) ? "NaN"
            : value.ToString(CultureInfo.InvariantCulture);

        private sealed class Series(string labels, long[]? buckets)
        {
            public readonly string Labels = labels;
            public readonly long[]? Buckets = buckets;
            public double Value; // counter/gauge value, or histogram sum
            public long Count;
        }
    }
}
