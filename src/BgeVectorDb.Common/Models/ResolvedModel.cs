namespace BgeVectorDb.Common.Models;

/// <summary>Where a resolved model was found.</summary>
public enum ModelSource
{
    /// <summary><see cref="ModelOptions.ModelsFolder"/>.</summary>
    ConfiguredFolder,

    /// <summary>A completed download in <see cref="ModelOptions.CacheFolder"/>.</summary>
    Cache,

    /// <summary>Downloaded from the hub just now (and now in the cache).</summary>
    Hub,
}

/// <summary>A model whose files are on local disk, ready to load.</summary>
/// <param name="ModelId">The id asked for, canonical for catalog models ("BAAI/bge-small-en-v1.5").</param>
/// <param name="Directory">Folder holding config.json, the ONNX file and the tokenizer files.</param>
/// <param name="Source">Where it was found.</param>
/// <param name="Kind">Embedding or reranker (catalog, else config.json's architectures).</param>
/// <param name="Family">"bert" or "xlm-roberta" (catalog, else config.json's model_type).</param>
/// <param name="Dimension">Embedding size: config.json's hidden_size (the files win over the catalog), else the
/// catalog's; null for rerankers or when unknown.</param>
/// <param name="QueryInstruction">Query instruction preset; null for rerankers and unknown models.</param>
/// <param name="OnnxPath">Full path of the ONNX graph.</param>
/// <param name="Revision">Hub commit (or requested revision) for cache/hub models; null for the configured folder.</param>
public sealed record ResolvedModel(
    string ModelId,
    string Directory,
    ModelSource Source,
    ModelKind Kind,
    string Family,
    int? Dimension,
    string? QueryInstruction,
    string OnnxPath,
    string? Revision)
{
    /// <summary>Full path of <paramref name="relativePath"/> ('/'-separated) when that file exists, else null.</summary>
    public string? FindFile(string relativePath)
    {
        var full = Path.Combine(Directory, relativePath.Replace('/', Path.DirectorySeparatorChar));
        return File.Exists(full) ? full : null;
    }
}

/// <summary>One progress report of a hub download.</summary>
/// <param name="File">Relative path of the file being downloaded.</param>
/// <param name="BytesDone">Bytes of this file on disk so far (a resumed part included).</param>
/// <param name="TotalBytes">Size of this file, when known.</param>
/// <param name="BytesPerSecond">Transfer rate of the current attempt.</param>
/// <param name="FileIndex">0-based index of this file among <paramref name="FileCount"/>.</param>
/// <param name="FileCount">Number of files being downloaded.</param>
public readonly record struct DownloadProgress(
    string File, long BytesDone, long? TotalBytes, double BytesPerSecond, int FileIndex, int FileCount);
