using System.ComponentModel.DataAnnotations;
using System.Net;
using BgeVectorDb.Server.Hosting;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Metrics;

/// <summary>Section "Metrics": the Prometheus endpoint and live recall telemetry.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Serve /metrics. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>host:port of the metrics endpoint (plain HTTP/1.1, its own Kestrel listener). Default 127.0.0.1:9464;
    /// 0.0.0.0:9464 in containers; port 0 picks a free port (logged as "BgeVectorDb metrics on ...").</summary>
    [Required]
    public string Listen { get; set; } = "127.0.0.1:9464";

    /// <summary>Fraction of index searches rerun exactly in the background to measure recall@k. 0 = off. Default 0.01.</summary>
    [Range(0.0, 1.0)]
    public double RecallSampleRate { get; set; } = 0.01;

    /// <summary>Sampled searches waiting for their rerun; more are dropped (bgevdb_recall_dropped_total). Default 64.</summary>
    [Range(1, 1_000_000)]
    public int RecallQueueCapacity { get; set; } = 64;

    /// <summary>Parses <see cref="Listen"/>: "host:port", "[v6]:port" or "http://host:port/"; host may be an IP,
    /// "localhost", or "*" / "+" for every interface.</summary>
    public static bool TryParseListen(string listen, out IPEndPoint endpoint)
    {
        endpoint = null!;
        var s = listen.Trim();
        if (s.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) s = s[7..];
        s = s.TrimEnd('/');
        var colon = s.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(s[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port > 65535) return false;
        var host = s[..colon].Trim('[', ']');
        IPAddress? address = host switch
        {
            "*" or "+" => IPAddress.Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var a) ? a : null,
        };
        if (address is null) return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }
}

/// <summary>Section "Metrics" at start: the data-annotation rules and the listen address, each failure naming its key.</summary>
internal sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
{
    private readonly SectionAnnotationsValidator<MetricsOptions> _annotations = new(MetricsOptions.Section);

    public ValidateOptionsResult Validate(string? name, MetricsOptions options)
    {
        var failures = new List<string>();
        if (_annotations.Validate(name, options) is { Failed: true } annotations) failures.AddRange(annotations.Failures ?? []);
        if (options.Listen is not null && !MetricsOptions.TryParseListen(options.Listen, out _))
        {
            failures.Add($"Metrics:Listen '{options.Listen}' is not host:port (e.g. 127.0.0.1:9464 or 0.0.0.0:9464)");
        }
        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
