using System.Text.Json;
using BgeVectorDb.Cli;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests.Cli;

/// <summary>The CLI in-process without a server: usage errors (exit 2), local errors (exit 1), models commands.</summary>
public sealed class CliParsingTests
{
    /// <summary>Nothing listens on port 1 of loopback: connecting fails at once.</summary>
    private const string NoServer = "http://127.0.0.1:1";

    [Fact]
    public async Task Search_with_k_zero_is_a_usage_error()
    {
        var run = await CliRun.RunAsync("search", "c", "q", "-k", "0");
        Assert.True(run.ExitCode == CliApp.ExitUsage, run.ToString());
        Assert.Contains("-k must be at least 1.", run.Stderr);
        Assert.Contains("Run 'bgevdb search --help' for usage.", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Theory]
    [InlineData(new[] { "search", "c", "q", "-k", "20", "--candidates", "10" }, "--candidates (10) must be at least -k (20).")]
    [InlineData(new[] { "search", "c", "q", "--filter", "{\"field\":{\"equals\":1}}" }, "--filter: $.field: missing \"key\"")]
    [InlineData(new[] { "search", "c", "q", "-k", "ten" }, "Cannot parse argument 'ten' for option '-k'")]
    [InlineData(new[] { "search", "c" }, "Give exactly one of QUERY, --vector JSON or --like ID.")]
    [InlineData(new[] { "search", "c", "q", "--like", "d1" }, "Give exactly one of QUERY, --vector JSON or --like ID.")]
    [InlineData(new[] { "search", "c", "--vector", "[1,2]", "--no-rerank" }, "--no-rerank and --instruction apply to text queries only.")]
    [InlineData(new[] { "search", "c", "--vector", "[1,\"x\"]" }, "--vector: expected a JSON array of numbers: ")]
    [InlineData(new[] { "search", "c", "--vector", "[]" }, "--vector: expected a non-empty JSON array of numbers.")]
    [InlineData(new[] { "collections" }, "Required command was not provided.")]
    [InlineData(new[] { "collections", "create", "x", "--distance", "manhattan" }, "manhattan")]
    [InlineData(new[] { "collections", "create", "x", "--m", "0" }, "--m must be at least 1.")]
    [InlineData(new[] { "ingest", "c" }, "Give exactly one of --jsonl FILE or --beir FOLDER.")]
    [InlineData(new[] { "ingest", "c", "--jsonl", "a", "--beir", "b" }, "Give exactly one of --jsonl FILE or --beir FOLDER.")]
    [InlineData(new[] { "ingest", "c", "--jsonl", "a", "--batch-size", "0" }, "--batch-size must be between 1 and 10000.")]
    [InlineData(new[] { "get", "c" }, "Required argument missing for command: 'get'.")]
    [InlineData(new[] { "nosuchcommand" }, "nosuchcommand")]
    [InlineData(new[] { "info", "--server", "ftp://host" }, "--server: 'ftp://host' is not an http:// or https:// address.")]
    [InlineData(new[] { "models", "synth", "--id", "a/b", "--vocab", "v.txt" }, "--preset")]
    [InlineData(new[] { "models", "synth", "--preset", "tiny", "--id", "../x", "--vocab", "v.txt" }, "Invalid model id '../x'")]
    public async Task Bad_command_lines_exit_2_with_the_reason(string[] args, string expected)
    {
        var run = await CliRun.RunAsync(args);
        Assert.True(run.ExitCode == CliApp.ExitUsage, run.ToString());
        Assert.Contains(expected, run.Stderr);
    }

    [Fact]
    public async Task Help_exits_0_and_lists_the_commands()
    {
        var run = await CliRun.RunAsync("--help");
        Assert.True(run.ExitCode == CliApp.ExitOk, run.ToString());
        foreach (var command in new[] { "collections", "ingest", "search", "get", "delete", "info", "models" })
        {
            Assert.Contains(command, run.Stdout);
        }
        Assert.Contains("--server", run.Stdout);
    }

    [Fact]
    public async Task Unreachable_server_is_exit_1_with_unavailable_and_the_address()
    {
        var run = await CliRun.RunAsync("collections", "list", "--server", NoServer);
        Assert.True(run.ExitCode == CliApp.ExitError, run.ToString());
        Assert.StartsWith($"UNAVAILABLE: cannot reach the server at {NoServer}: ", run.Stderr);
    }

    [Fact]
    public async Task Ingest_missing_file_is_exit_1()
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var run = await CliRun.RunAsync("ingest", "c", "--jsonl", dir.Sub("none.jsonl"), "--server", NoServer);
        Assert.True(run.ExitCode == CliApp.ExitError, run.ToString());
        Assert.Equal($"{dir.Sub("none.jsonl")}: file not found", run.Stderr.Split('\n').Last(l => l.Length > 0).TrimEnd());
    }

    [Fact]
    public async Task Ingest_bad_line_reports_file_and_line_even_when_nothing_was_sent()
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var file = dir.Sub("bad.jsonl");
        File.WriteAllLines(file, ["{\"id\":\"a\",\"text\":\"x\"}", "{\"id\":\"b\",\"text\":"]);

        var run = await CliRun.RunAsync("ingest", "c", "--jsonl", file, "--server", NoServer);
        Assert.True(run.ExitCode == CliApp.ExitError, run.ToString());
        Assert.Contains($"{file}:2: invalid JSON: ", run.Stderr);
        Assert.DoesNotContain("UNAVAILABLE", run.Stderr);
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "NOT_FOUND")]
    [InlineData(StatusCode.InvalidArgument, "INVALID_ARGUMENT")]
    [InlineData(StatusCode.ResourceExhausted, "RESOURCE_EXHAUSTED")]
    [InlineData(StatusCode.OK, "OK")]
    public void Status_names_are_upper_snake_case(StatusCode code, string name) =>
        Assert.Equal(name, CliGlobals.StatusName(code));

    [Fact]
    public void Rpc_errors_read_code_colon_detail() =>
        Assert.Equal("NOT_FOUND: collection 'x' does not exist",
            CliGlobals.DescribeRpcError(new RpcException(new Status(StatusCode.NotFound, "collection 'x' does not exist")), NoServer));

    [Fact]
    public async Task Models_synth_writes_a_tiny_model_that_models_list_shows()
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var cache = dir.Sub("cache");

        var synth = await CliRun.RunAsync("models", "synth", "--preset", "tiny", "--id", "test/tiny-rerank", "--kind", "reranker",
            "--seed", "7", "--vocab", SharedData.BertVocab, "--cache", cache);
        Assert.True(synth.ExitCode == CliApp.ExitOk, synth.ToString());
        var folder = Path.Combine(cache, "test--tiny-rerank");
        Assert.True(File.Exists(Path.Combine(folder, "onnx", "model.onnx")), synth.ToString());
        Assert.Equal(File.ReadAllBytes(SharedData.BertVocab), File.ReadAllBytes(Path.Combine(folder, "vocab.txt")));
        Assert.Contains(folder, synth.Stdout);

        var list = await CliRun.RunAsync("models", "list", "--cache", cache, "--json");
        Assert.True(list.ExitCode == CliApp.ExitOk, list.ToString());
        using var json = JsonDocument.Parse(list.Stdout);
        var models = json.RootElement.GetProperty("models").EnumerateArray().ToList();
        var model = Assert.Single(models);
        Assert.Equal("test/tiny-rerank", model.GetProperty("id").GetString());
        Assert.Equal("bert", model.GetProperty("model_type").GetString());
        Assert.Equal("reranker", model.GetProperty("kind").GetString());
        Assert.Equal(32, model.GetProperty("hidden_size").GetInt32());
        Assert.True(model.GetProperty("synthetic").GetBoolean());
        Assert.False(model.GetProperty("known").GetBoolean());
        Assert.Equal(JsonValueKind.Null, model.GetProperty("problem").ValueKind);

        var text = await CliRun.RunAsync("models", "list", "--cache", cache);
        Assert.Contains("test/tiny-rerank", text.Stdout);
        Assert.Contains("not in the catalog", text.Stdout);
    }

    [Fact]
    public async Task Models_synth_rejects_a_family_for_fixed_presets_and_a_missing_vocab()
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var fixedPreset = await CliRun.RunAsync("models", "synth", "--preset", "bge-small", "--id", "t/x", "--family", "xlm-roberta",
            "--vocab", SharedData.BertVocab, "--cache", dir.Path);
        Assert.True(fixedPreset.ExitCode == CliApp.ExitError, fixedPreset.ToString());
        Assert.Contains("Only the 'tiny' preset takes a family or kind", fixedPreset.Stderr);

        var noVocab = await CliRun.RunAsync("models", "synth", "--preset", "tiny", "--id", "t/x", "--vocab", dir.Sub("vocab.txt"), "--cache", dir.Path);
        Assert.True(noVocab.ExitCode == CliApp.ExitError, noVocab.ToString());
        Assert.Contains("tokenizer file not found", noVocab.Stderr);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "t--x")));
    }
}
