namespace BgeVectorDb.Server.Hosting;

/// <summary>What a key may do. Each role includes the ones before it.</summary>
public enum ApiKeyRole
{
    /// <summary>Search, get documents, list/get collections, info.</summary>
    Read,
    /// <summary>Read plus create/delete collections, upsert/delete documents, mining.</summary>
    Write,
    /// <summary>Everything, including checkpoints and snapshots.</summary>
    Admin,
}

/// <summary>Section "Auth". With no keys configured every call is allowed (bind to loopback then).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Metadata header that carries the key. Default "x-api-key"; "authorization: Bearer KEY" is accepted too.</summary>
    public string Header { get; set; } = "x-api-key";

    /// <summary>Accepted keys and their roles, e.g. Auth:Keys:0:Key=... Auth:Keys:0:Role=Read. Default none.</summary>
    public List<ApiKeyOptions> Keys { get; set; } = [];
}

public sealed class ApiKeyOptions
{
    /// <summary>The secret (at least 16 characters). Never logged.</summary>
    public string Key { get; set; } = "";

    /// <summary>Read, Write or Admin. Default Read.</summary>
    public ApiKeyRole Role { get; set; } = ApiKeyRole.Read;

    /// <summary>A label for logs and metrics (the key itself is never logged).</summary>
    public string Name { get; set; } = "";
}
