namespace BgeVectorDb.Core.Embedding;

/// <summary>Turns texts into L2-normalised vectors (a BGE bi-encoder, or anything shaped like one).</summary>
public interface ITextEmbedder
{
    /// <summary>Model id, e.g. "BAAI/bge-small-en-v1.5".</summary>
    string ModelId { get; }

    int Dimension { get; }

    /// <summary>Instruction preset of the model family, prepended to queries (not documents).</summary>
    string DefaultQueryInstruction { get; }

    /// <summary>Embeds documents (no instruction). One vector per text, same order.</summary>
    Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>Embeds one query with <paramref name="instruction"/> prepended (empty = none).</summary>
    Task<float[]> EmbedQueryAsync(string query, string instruction, CancellationToken cancellationToken = default);
}
