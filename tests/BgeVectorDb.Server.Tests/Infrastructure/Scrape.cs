using System.Globalization;
using System.Text.RegularExpressions;

namespace BgeVectorDb.Server.Tests.Infrastructure;

/// <summary>One Prometheus text scrape, parsed: TYPE lines and samples with their labels.</summary>
public sealed partial class Scrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private Scrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Types[parts[2]] = parts[3];
                continue;
            }
            if (line.Length == 0 || line[0] == '#') continue;
            var m = SamplePattern().Match(line);
            Assert.True(m.Success, $"not a sample line: '{line}'");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in LabelPattern().Matches(m.Groups[2].Value))
            {
                labels[l.Groups[1].Value] = l.Groups[2].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            }
            var v = m.Groups[3].Value;
            Samples.Add((m.Groups[1].Value, labels, v == "+Inf" ? double.PositiveInfinity : double.Parse(v, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    public Dictionary<string, string> Types { get; } = new(StringComparer.Ordinal);

    public List<(string Name, Dictionary<string, string> Labels, double Value)> Samples { get; } = [];

    public static async Task<Scrape> FromAsync(string metricsAddress)
    {
        Assert.False(string.IsNullOrEmpty(metricsAddress), "the server did not log its metrics address");
        using var response = await Http.GetAsync(metricsAddress);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Sum of the samples named <paramref name="name"/> whose labels include every pair given.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    public bool Has(string name, params (string Key, string Value)[] labels) =>
        Samples.Any(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")]
    private static partial Regex SamplePattern();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPattern();
}
