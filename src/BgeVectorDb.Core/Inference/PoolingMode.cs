namespace BgeVectorDb.Core.Inference;

/// <summary>How a bi-encoder turns its token vectors (<c>last_hidden_state</c> [b,s,h]) into one vector per text,
/// as sentence-transformers' Pooling module names it (<c>1_Pooling/config.json</c>).</summary>
public enum PoolingMode
{
    /// <summary>First token ([CLS] / &lt;s&gt;): <c>pooling_mode_cls_token</c>. BGE models.</summary>
    Cls,

    /// <summary>Average of the token vectors under the attention mask: <c>pooling_mode_mean_tokens</c>.
    /// all-MiniLM-L6-v2 and most sentence-transformers models.</summary>
    Mean,

    /// <summary>Last non-padding token: <c>pooling_mode_lasttoken</c> (decoder-style embedders).</summary>
    LastToken,
}

/// <summary>Names of <see cref="PoolingMode"/> in configuration, the info RPC and the CLI.</summary>
public static class PoolingModes
{
    /// <summary>"cls", "mean" or "lasttoken".</summary>
    public static string Name(PoolingMode mode) => mode switch
    {
        PoolingMode.Cls => "cls",
        PoolingMode.Mean => "mean",
        PoolingMode.LastToken => "lasttoken",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>Parses "cls", "mean", "lasttoken" (also "last_token", "last"), case-insensitively.</summary>
    /// <exception cref="ArgumentException">Any other value.</exception>
    public static PoolingMode Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Trim().ToLowerInvariant() switch
        {
            "cls" => PoolingMode.Cls,
            "mean" => PoolingMode.Mean,
            "lasttoken" or "last_token" or "last" => PoolingMode.LastToken,
            _ => throw new ArgumentException($"unknown pooling '{value}': expected cls, mean or lasttoken", nameof(value)),
        };
    }
}
