using BgeVectorDb.Core.Index;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// The in-memory side of a durable collection as Storage sees it (the collection implements it; Storage never
/// names the collection's type): what recovery loads a checkpoint into and replays the WAL into, and what a
/// checkpoint copies from.
/// </summary>
internal interface IDurableState
{
    /// <summary>The collection's vector index: checkpoints export its nodes, recovery imports them.</summary>
    IVectorIndex Index { get; }

    /// <summary>The collection's write path (its WAL; checkpoints hold writes through it).</summary>
    DurableApplier Applier { get; }

    /// <summary>Internal id slots (live, deleted and never-reused ids): every id below is a document or a tombstone.</summary>
    int Slots { get; }

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

    /// <summary>Recovery, before the WAL is replayed: the collection's checkpointer, to be told of every write
    /// applied from then on (<see cref="Checkpointer.MarkWritten"/>).</summary>
    void Attach(Checkpointer checkpointer);

    /// <summary>A checkpoint's cut (writes are held): writes the document of each id in <paramref name="dirty"/>, or
    /// its deletion, into <paramref name="writer"/>, and returns the counts for the meta record. <paramref name="fresh"/>:
    /// the store has no record of these ids (a new generation), so ids without a document are skipped, not deleted.</summary>
    CutCounts WriteDocuments(IReadOnlyCollection<int> dirty, CollectionStore.Writer writer, bool fresh);

    /// <summary>A checkpoint completed (telemetry): how long it took, the WAL position it covers, the bytes of its
    /// FASTER files.</summary>
    void CheckpointCompleted(TimeSpan duration, long walPosition, long bytes);
}
