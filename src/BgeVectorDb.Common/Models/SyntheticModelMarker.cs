using System.Text.Json;

namespace BgeVectorDb.Common.Models;

/// <summary>
/// How a model folder says its weights are synthetic (seeded random, written by <c>bgevdb models synth</c> /
/// BgeVectorDb.Synthetic): the file <see cref="FileName"/> with <c>"synthetic": true</c>. Folders synthesised
/// before that file existed are recognised by the top-level <see cref="LegacyConfigProperty"/> object of their
/// config.json (still written, with the seed and preset).
/// </summary>
public static class SyntheticModelMarker
{
    /// <summary>Marker file in the model folder.</summary>
    public const string FileName = "bgevectordb-synthetic.json";

    /// <summary>Top-level config.json property the synthesiser writes (seed, preset, note).</summary>
    public const string LegacyConfigProperty = "bgevectordb_synthetic";

    /// <summary>Writes the marker into <paramref name="directory"/>.</summary>
    public static void Write(string directory, string preset, int seed, string note)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        using var stream = new FileStream(Path.Combine(directory, FileName), FileMode.Create, FileAccess.Write, FileShare.None);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteBoolean("synthetic", true);
        json.WriteString("preset", preset);
        json.WriteNumber("seed", seed);
        json.WriteString("note", note);
        json.WriteEndObject();
    }

    /// <summary>True when <paramref name="directory"/> holds a synthetic model: its marker file says
    /// <c>"synthetic": true</c>, or (older folders, no marker file) its config.json has <see cref="LegacyConfigProperty"/>.
    /// An unreadable marker or config counts as not synthetic.</summary>
    public static bool IsSynthetic(string directory)
    {
        var marker = Path.Combine(directory, FileName);
        if (File.Exists(marker))
        {
            return TryReadRoot(marker, root => root.TryGetProperty("synthetic", out var s) && s.ValueKind == JsonValueKind.True);
        }
        return IsSyntheticConfig(Path.Combine(directory, "config.json"));
    }

    /// <summary>True when the config.json at <paramref name="configPath"/> has the top-level
    /// <see cref="LegacyConfigProperty"/> object.</summary>
    public static bool IsSyntheticConfig(string configPath) =>
        File.Exists(configPath)
        && TryReadRoot(configPath, root => root.TryGetProperty(LegacyConfigProperty, out var p) && p.ValueKind == JsonValueKind.Object);

    private static bool TryReadRoot(string path, Func<JsonElement, bool> test)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object && test(doc.RootElement);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
