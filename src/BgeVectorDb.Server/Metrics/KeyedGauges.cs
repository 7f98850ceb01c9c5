using System.Diagnostics.Metrics;

namespace BgeVectorDb.Server.Metrics;

/// <summary>One observable gauge of a <see cref="KeyedGauges{T}"/>: its series name, unit, help, and how to read an item
/// (null = no sample for that item now).</summary>
internal sealed record KeyedGauge<T>(string Name, string Unit, string Description, Func<T, double?> Read);

/// <summary>
/// Observable gauges with one series per item (a collection), read at each scrape, on a meter of their own. The
/// OpenTelemetry SDK keeps a data point for every label set a cumulative instrument ever reported, up to its cardinality
/// limit (2,000), even when the item is gone: a server that creates and deletes collections would, after 2,000 names,
/// report new collections only as one otel_metric_overflow series. So once <paramref name="renewAfterGone"/> keys
/// have gone, the meter is replaced by an identical one (the SDK drops a disposed meter's points; a scrape during the
/// swap may miss these gauges once). A gone item's series disappears at the next scrape either way.
/// </summary>
internal sealed class KeyedGauges<T> : IDisposable
{
    private readonly string _meterName;
    private readonly string _label;
    private readonly Func<IEnumerable<T>> _items;
    private readonly Func<T, string> _key;
    private readonly IReadOnlyList<KeyedGauge<T>> _gauges;
    private readonly int _renewAfterGone;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal); // keys reported since the meter was made
    private Meter _meter;
    private bool _renewing;
    private bool _disposed;

    public KeyedGauges(string meterName, string label, Func<IEnumerable<T>> items, Func<T, string> key, IReadOnlyList<KeyedGauge<T>> gauges,
        int renewAfterGone = 500)
    {
        _meterName = meterName;
        _label = label;
        _items = items;
        _key = key;
        _gauges = gauges;
        _renewAfterGone = renewAfterGone;
        _meter = Create();
    }

    /// <summary>Meters made so far (1 + renewals).</summary>
    public int Generation { get; private set; } = 1;

    private Meter Create()
    {
        var meter = new Meter(_meterName, "1.0");
        foreach (var gauge in _gauges) meter.CreateObservableGauge(gauge.Name, () => Measure(gauge), gauge.Unit, gauge.Description);
        return meter;
    }

    private List<Measurement<double>> Measure(KeyedGauge<T> gauge)
    {
        var measurements = new List<Measurement<double>>();
        var live = new List<string>();
        foreach (var item in _items())
        {
            double? value;
            try
            {
                value = gauge.Read(item);
            }
            catch (ObjectDisposedException)
            {
                continue; // gone while we read
            }
            var key = _key(item);
            live.Add(key);
            if (value is { } v) measurements.Add(new Measurement<double>(v, new KeyValuePair<string, object?>(_label, key)));
        }
        lock (_lock)
        {
            foreach (var key in live) _reported.Add(key);
            if (!_renewing && !_disposed && _reported.Count - live.Count >= _renewAfterGone)
            {
                // Not from inside the SDK's collection (this callback): right after it.
                _renewing = true;
                ThreadPool.UnsafeQueueUserWorkItem(static self => self.Renew(), this, preferLocal: false);
            }
        }
        return measurements;
    }

    private void Renew()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _meter.Dispose();
            _reported.Clear();
            _meter = Create();
            Generation++;
            _renewing = false;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _meter.Dispose();
        }
    }
}
