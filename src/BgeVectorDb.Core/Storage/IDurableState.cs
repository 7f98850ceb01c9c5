using BgeVectorDb.Core.Index;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// The in-memory side of a durable collection as Storage sees it (the collection implements it; Storage never
/// names the collection's type): what recovery loads a checkpoint into and replays the WAL into.
/// </summary>
internal interface IDurableState
{
    /// <summary>The collection's vector index: checkpoints export its nodes, recovery imports them.</summary>
    IVectorIndex Index { get; }

    /// <summary>Live documents now.</summary>
    long Documents { get; }

    /// <summary>Recovery: one document of the checkpoint being loaded (the state is empty before the first). Throws
    /// <see cref="InvalidDataException"/> when the document's id is already loaded.</summary>
    void LoadDocument(DocumentRecord document);

    /// <summary>Recovery: every document and index node of the checkpoint is loaded; <paramref name="meta"/> gives
    /// the id slots, the deleted total and the WAL position the checkpoint covers.</summary>
    void CompleteLoad(MetaRecord meta);

    /// <summary>Recovery: applies a logged write (no validation, no logging), in log order.</summary>
    void Replay(WalEntry entry);

    /// <summary>Recovery: the store the next checkpoints write to, and the sequence of the last checkpoint.</summary>
    void AttachStore(CollectionStore store, long checkpointSequence);
}
