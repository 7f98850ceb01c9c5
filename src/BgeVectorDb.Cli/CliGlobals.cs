using System.CommandLine;
using BgeVectorDb.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace BgeVectorDb.Cli;

/// <summary>The global options (recursive: accepted after any subcommand), the output writers and the
/// wrapper that turns a command body into an action with the CLI's exit codes.</summary>
internal sealed class CliGlobals
{
    /// <summary>Server address when neither --server nor env BGEVDB_SERVER is given.</summary>
    public const string DefaultServer = "http://127.0.0.1:50051";

    /// <summary>Environment variable with the server address.</summary>
    public const string ServerEnvironmentVariable = "BGEVDB_SERVER";

    /// <summary>Environment variable with the API key.</summary>
    public const string ApiKeyEnvironmentVariable = "BGEVDB_API_KEY";

    /// <summary>Metadata header that carries the API key.</summary>
    public const string ApiKeyHeader = "x-api-key";

    public CliGlobals(TextWriter stdout, TextWriter stderr, CliHost host)
    {
        Out = stdout;
        Err = stderr;
        Host = host;
        Server = new Option<string>("--server")
        {
            Description = $"Server address (env {ServerEnvironmentVariable}).",
            HelpName = "URL",
            Recursive = true,
            DefaultValueFactory = _ => NonEmpty(Environment.GetEnvironmentVariable(ServerEnvironmentVariable)) ?? DefaultServer,
        };
        Server.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (NormalizeAddress(value) is null)
            {
                result.AddError($"--server: '{value}' is not an http:// or https:// address.");
            }
        });
        ApiKey = new Option<string?>("--api-key")
        {
            Description = $"API key, sent as the '{ApiKeyHeader}' header (env {ApiKeyEnvironmentVariable}).",
            HelpName = "KEY",
            Recursive = true,
            DefaultValueFactory = _ => NonEmpty(Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable)),
        };
        Json = new Option<bool>("--json")
        {
            Description = "Machine-readable JSON output (proto JSON, snake_case field names).",
            Recursive = true,
        };
    }

    public Option<string> Server { get; }

    public Option<string?> ApiKey { get; }

    public Option<bool> Json { get; }

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    public CliHost Host { get; }

    /// <summary>An action running <paramref name="body"/> with a session; maps exceptions to exit code 1.</summary>
    public Func<ParseResult, CancellationToken, Task<int>> Action(Func<CliSession, CancellationToken, Task<int>> body) =>
        async (parseResult, cancellationToken) =>
        {
            using var session = new CliSession(this, parseResult);
            try
            {
                return await body(session, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                await Err.WriteLineAsync(DescribeRpcError(e, session.Address)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Err.WriteLineAsync("cancelled").ConfigureAwait(false);
            }
            catch (Exception e) when (e is CliException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                await Err.WriteLineAsync(e.Message).ConfigureAwait(false);
            }
            await Err.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return CliApp.ExitError;
        };

    /// <summary>"NOT_FOUND: collection 'x' does not exist"; for UNAVAILABLE also the address tried.</summary>
    public static string DescribeRpcError(RpcException e, string address)
    {
        var code = StatusName(e.StatusCode);
        var detail = string.IsNullOrWhiteSpace(e.Status.Detail) ? "(no detail)" : e.Status.Detail;
        return e.StatusCode == StatusCode.Unavailable
            ? $"{code}: cannot reach the server at {address}: {detail}"
            : $"{code}: {detail}";
    }

    /// <summary>gRPC status name in the canonical form: NotFound -> NOT_FOUND.</summary>
    public static string StatusName(StatusCode code)
    {
        var name = code.ToString();
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1]))
            {
                sb.Append('_');
            }
            sb.Append(char.ToUpperInvariant(name[i]));
        }
        return sb.ToString();
    }

    /// <summary>"host:port" gets "http://"; null when not an absolute http(s) URL.</summary>
    public static string? NormalizeAddress(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var text = value.Contains("://", StringComparison.Ordinal) ? value : "http://" + value;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? text
            : null;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>One command run: parsed globals, output helpers and (created on first use) the gRPC channel.</summary>
internal sealed class CliSession : IDisposable
{
    private static readonly JsonFormatter Formatter = new(
        JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));

    private readonly string? _apiKey;
    private GrpcChannel? _channel;
    private CallInvoker? _invoker;

    public CliSession(CliGlobals globals, ParseResult parseResult)
    {
        Globals = globals;
        ParseResult = parseResult;
        Address = CliGlobals.NormalizeAddress(parseResult.GetValue(globals.Server)) ?? CliGlobals.DefaultServer;
        _apiKey = parseResult.GetValue(globals.ApiKey);
        Json = parseResult.GetValue(globals.Json);
    }

    public CliGlobals Globals { get; }

    public ParseResult ParseResult { get; }

    public string Address { get; }

    public bool Json { get; }

    public TextWriter Out => Globals.Out;

    public TextWriter Err => Globals.Err;

    public T Get<T>(Option<T> option) => ParseResult.GetValue(option)!;

    public T Get<T>(Argument<T> argument) => ParseResult.GetValue(argument)!;

    public CallInvoker Invoker
    {
        get
        {
            if (_invoker is null)
            {
                _channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions
                {
                    MaxReceiveMessageSize = 256 * 1024 * 1024,
                    MaxSendMessageSize = 256 * 1024 * 1024,
                });
                var invoker = _channel.CreateCallInvoker();
                _invoker = _apiKey is null
                    ? invoker
                    : invoker.Intercept(metadata =>
                    {
                        metadata.Add(CliGlobals.ApiKeyHeader, _apiKey);
                        return metadata;
                    });
            }
            return _invoker;
        }
    }

    public Collections.CollectionsClient Collections => new(Invoker);

    public Documents.DocumentsClient Documents => new(Invoker);

    public Search.SearchClient Search => new(Invoker);

    public Admin.AdminClient Admin => new(Invoker);

    /// <summary>Writes a proto message as one line of JSON on stdout.</summary>
    public void WriteJson(IMessage message) => Out.WriteLine(Formatter.Format(message));

    public void Dispose() => _channel?.Dispose();
}
