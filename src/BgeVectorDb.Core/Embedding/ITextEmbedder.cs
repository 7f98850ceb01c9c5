using BgeVectorDb.Core.Inference;

namespace BgeVectorDb.Core.Embedding;

/// <summary>Turns texts into L2-normalised vectors (a BGE bi-encoder, or anything shaped like one).</summary>
/// <remarks>The method says what the work is, and so its place in the model's scheduler: documents run in the
/// <see cref="InferencePriority.Ingest"/> lane, queries in the <see cref="InferencePriority.Query"/> lane. Bulk
/// callers that embed queries (mining) pass <see cref="InferencePriority.Ingest"/> explicitly.</remarks>
public interface ITextEmbedder
{
    /// <summary>Model id, e.g. "BAAI/bge-small-en-v1.5".</summary>
    string ModelId { get; }

    int Dimension { get; }

    /// <summary>Instruction preset of the model family, prepended to queries (not documents).</summary>
    string DefaultQueryInstruction { get; }

    /// <summary>Prompt the model prepends to every document ("" = none; most models, BGE included).</summary>
    string DocumentPrompt => "";

    /// <summary>Embeds documents (with <see cref="DocumentPrompt"/>, no query instruction), at ingest priority. One vector per text, same order.</summary>
    Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>Embeds one query with <paramref name="instruction"/> prepended (empty = none), at query priority.</summary>
    Task<float[]> EmbedQueryAsync(string query, string instruction, CancellationToken cancellationToken = default);

    /// <summary>Embeds one query at the priority given (e.g. <see cref="InferencePriority.Ingest"/> for a mining
    /// job). Implementations without a scheduler ignore the priority.</summary>
    Task<float[]> EmbedQueryAsync(string query, string instruction, InferencePriority priority, CancellationToken cancellationToken = default) =>
        EmbedQueryAsync(query, instruction, cancellationToken);
}
