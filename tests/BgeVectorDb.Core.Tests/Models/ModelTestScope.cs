using System.Text;
using BgeVectorDb.Common.Models;

namespace BgeVectorDb.Core.Tests.Models;

/// <summary>A temp folder (models folder + cache) and a fake hub, removed at the end of a test.</summary>
internal sealed class ModelTestScope : IDisposable
{
    public const string SmallEn = "BAAI/bge-small-en-v1.5";

    public ModelTestScope()
    {
        Root = Path.Combine(Path.GetTempPath(), "bgevdb-models-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Hub = new FakeHub();
    }

    public string Root { get; }
    public FakeHub Hub { get; }
    public string Cache => Path.Combine(Root, "cache");
    public string Folder => Path.Combine(Root, "models");

    public ModelOptions Options(bool allowDownload = true, string? endpoint = null, string? folder = null) => new()
    {
        CacheFolder = Cache,
        ModelsFolder = folder,
        HubEndpoint = endpoint ?? Hub.Endpoint,
        HubToken = null,
        Revision = "main",
        AllowDownload = allowDownload,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        DownloadTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Deterministic pseudo-random bytes (a stand-in for ONNX weights).</summary>
    public static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Files of a BERT-family repo as the BAAI repos lay them out, plus files that must not be fetched.</summary>
    public static Dictionary<string, byte[]> BertFiles(int onnxBytes = 300_000) => new()
    {
        ["config.json"] = Encoding.UTF8.GetBytes("{\"architectures\":[\"BertModel\"],\"model_type\":\"bert\",\"hidden_size\":384}"),
        ["onnx/model.onnx"] = Bytes(onnxBytes, 42),
        ["onnx/model_quantized.onnx"] = Bytes(1000, 7),
        ["vocab.txt"] = Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n"),
        ["tokenizer_config.json"] = Encoding.UTF8.GetBytes("{\"do_lower_case\":true}"),
        ["tokenizer.json"] = Encoding.UTF8.GetBytes("{\"version\":\"1.0\"}"),
        ["README.md"] = Encoding.UTF8.GetBytes("# model card\n"),
        ["pytorch_model.bin"] = Bytes(5000, 9),
    };

    public FakeHub.FakeRepo AddBertRepo(string id = SmallEn, int onnxBytes = 300_000)
    {
        var repo = Hub.AddRepo(id);
        foreach (var (path, data) in BertFiles(onnxBytes))
        {
            repo.Files[path] = data;
        }
        repo.Lfs.Add("onnx/model.onnx");
        repo.Lfs.Add("onnx/model_quantized.onnx");
        repo.Lfs.Add("pytorch_model.bin");
        return repo;
    }

    /// <summary>Writes a model's files into <paramref name="directory"/> (a user-supplied folder).</summary>
    public static void WriteFiles(string directory, IReadOnlyDictionary<string, byte[]> files)
    {
        foreach (var (path, data) in files)
        {
            var full = Path.Combine(directory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, data);
        }
    }

    public int HubRequestCount => Hub.Requests.Count;

    public void Dispose()
    {
        Hub.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
