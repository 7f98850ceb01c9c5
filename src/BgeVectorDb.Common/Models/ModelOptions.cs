using Microsoft.Extensions.Options;

namespace BgeVectorDb.Common.Models;

/// <summary>
/// Where models come from: a configured folder, then the local model cache, then the Hugging Face hub.
/// Bound from the configuration section <c>"Models"</c> (<see cref="SectionName"/>).
/// </summary>
public sealed class ModelOptions
{
    /// <summary>Configuration section the server binds these options from.</summary>
    public const string SectionName = "Models";

    /// <summary>Environment variable that overrides the default <see cref="CacheFolder"/>.</summary>
    public const string CacheFolderEnvironmentVariable = "BGE_MODEL_CACHE";

    /// <summary>Environment variable that overrides the default <see cref="HubEndpoint"/> (as in huggingface_hub).</summary>
    public const string HubEndpointEnvironmentVariable = "HF_ENDPOINT";

    /// <summary>Environment variable that supplies the default <see cref="HubToken"/> (as in huggingface_hub).</summary>
    public const string HubTokenEnvironmentVariable = "HF_TOKEN";

    /// <summary>Environment variable that, when "1" or "true", turns <see cref="AllowDownload"/> off by default.</summary>
    public const string HubOfflineEnvironmentVariable = "HF_HUB_OFFLINE";

    /// <summary>The public Hugging Face hub.</summary>
    public const string DefaultHubEndpoint = "https://huggingface.co";

    /// <summary>
    /// Folder with models you supply yourself, searched first. A model <c>org/name</c> is looked for in
    /// <c>{ModelsFolder}/org/name</c>, then <c>{ModelsFolder}/name</c>, then <c>{ModelsFolder}</c> itself
    /// (when it directly holds config.json and the ONNX file). Default: null (not used).
    /// </summary>
    public string? ModelsFolder { get; set; }

    /// <summary>
    /// Local model cache; a download of <c>org/name</c> lands in <c>{CacheFolder}/org--name/</c> and is used
    /// only once its manifest (written last, after sizes and hashes were checked) is present.
    /// Default: env <c>BGE_MODEL_CACHE</c> when set, else <c>~/.cache/bgevectordb/models</c>.
    /// </summary>
    public string CacheFolder { get; set; } = DefaultCacheFolder();

    /// <summary>
    /// Base URL of the Hugging Face hub (or a mirror with the same API). Default: env <c>HF_ENDPOINT</c>
    /// when set, else <c>https://huggingface.co</c>.
    /// </summary>
    public string HubEndpoint { get; set; } = DefaultEndpoint();

    /// <summary>
    /// Access token sent as <c>Authorization: Bearer</c> to the hub (gated or private models).
    /// Default: env <c>HF_TOKEN</c> when set, else none. Never logged.
    /// </summary>
    public string? HubToken { get; set; } = NullIfEmpty(Environment.GetEnvironmentVariable(HubTokenEnvironmentVariable));

    /// <summary>Hub revision (branch, tag or commit) to download. Default: "main".</summary>
    public string Revision { get; set; } = "main";

    /// <summary>
    /// Whether a model missing from the folder and the cache may be downloaded from the hub.
    /// Default: true, unless env <c>HF_HUB_OFFLINE</c> is "1" or "true". When false the network is never touched.
    /// </summary>
    public bool AllowDownload { get; set; } = !IsTruthy(Environment.GetEnvironmentVariable(HubOfflineEnvironmentVariable));

    /// <summary>
    /// Longest wait for a hub response or for the next chunk of a download; a download that keeps
    /// receiving data is never cut off. Default: 30 s.
    /// </summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest wait to open a TCP connection to the hub; keeps start-up fast when the hub is unreachable.
    /// Default: 5 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The default cache folder: env <c>BGE_MODEL_CACHE</c>, else <c>~/.cache/bgevectordb/models</c>.</summary>
    public static string DefaultCacheFolder()
    {
        var fromEnv = NullIfEmpty(Environment.GetEnvironmentVariable(CacheFolderEnvironmentVariable));
        if (fromEnv is not null)
        {
            return fromEnv;
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            home = Path.GetTempPath();
        }
        return Path.Combine(home, ".cache", "bgevectordb", "models");
    }

    /// <summary>The default hub endpoint: env <c>HF_ENDPOINT</c>, else <see cref="DefaultHubEndpoint"/>.</summary>
    public static string DefaultEndpoint() =>
        NullIfEmpty(Environment.GetEnvironmentVariable(HubEndpointEnvironmentVariable))?.TrimEnd('/') ?? DefaultHubEndpoint;

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool IsTruthy(string? value) =>
        value is not null && (value.Trim() == "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
}

/// <summary>Checks <see cref="ModelOptions"/> at start (use with <c>ValidateOnStart</c>).</summary>
public sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.CacheFolder))
        {
            errors.Add($"{ModelOptions.SectionName}:{nameof(ModelOptions.CacheFolder)} must not be empty.");
        }
        if (!Uri.TryCreate(options.HubEndpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{ModelOptions.SectionName}:{nameof(ModelOptions.HubEndpoint)} must be an absolute http(s) URL, got '{options.HubEndpoint}'.");
        }
        if (string.IsNullOrWhiteSpace(options.Revision))
        {
            errors.Add($"{ModelOptions.SectionName}:{nameof(ModelOptions.Revision)} must not be empty.");
        }
        if (options.DownloadTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{ModelOptions.SectionName}:{nameof(ModelOptions.DownloadTimeout)} must be positive.");
        }
        if (options.ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{ModelOptions.SectionName}:{nameof(ModelOptions.ConnectTimeout)} must be positive.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
