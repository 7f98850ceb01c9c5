using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>A minimal durable state for Storage's own tests: documents by internal id (no vectors in the index), and a
/// record of what recovery and checkpoints did with it. Writes go through its <see cref="DurableApplier"/> like a
/// collection's; disposing it closes its checkpointer (WAL and store) or, without one, its WAL.</summary>
internal sealed class MemoryState : IDurableState, IAsyncDisposable
{
    private readonly Dictionary<int, string> _documents = [];

    public MemoryState(IWriteAheadLog? wal) =>
        Applier = new DurableApplier("t", wal, () => new InvalidOperationException("collection 't' is closed"));

    public DurableApplier Applier { get; }

    public IVectorIndex Index { get; } = new HnswIndex(2, DistanceKind.Cosine);

    public Checkpointer? Checkpointer { get; private set; }

    /// <summary>External ids loaded from a checkpoint, in store order.</summary>
    public List<string> Loaded { get; } = [];

    /// <summary>Ids of the WAL entries replayed, in order, and whether the checkpointer was attached at the time.</summary>
    public List<(string Id, bool Tracked)> Replayed { get; } = [];

    /// <summary>The dirty ids each checkpoint's cut asked for, sorted.</summary>
    public List<int[]> Cuts { get; } = [];

    public List<long> CompletedPositions { get; } = [];

    /// <summary>When set, the next cut throws half-way through its ids (after writing the first), as a store write
    /// failing mid-copy would.</summary>
    public bool FailNextCut { get; set; }

    public long Documents
    {
        get
        {
            lock (_documents) return _documents.Count;
        }
    }

    public int Slots
    {
        get
        {
            lock (_documents) return _documents.Count == 0 ? 0 : _documents.Keys.Max() + 1;
        }
    }

    /// <summary>Logs and applies a document at <paramref name="internalId"/>; returns its WAL position.</summary>
    public async Task<long> WriteAsync(int internalId, string id)
    {
        var entry = new UpsertEntry([new StoredDocument(id, "text " + id, Document.NoMetadata, [1, 0])]);
        var (position, _) = await Applier.LogThenApplyAsync(entry, () =>
        {
            lock (_documents) _documents[internalId] = id;
            Checkpointer?.MarkWritten(internalId);
            return 0;
        }, CancellationToken.None);
        return position;
    }

    public void LoadDocument(DocumentRecord document)
    {
        lock (_documents)
        {
            if (!_documents.TryAdd(document.InternalId, document.Id)) throw new InvalidDataException($"id {document.InternalId} twice");
        }
        Loaded.Add(document.Id);
    }

    public void CompleteLoad(MetaRecord meta)
    {
    }

    public void Replay(WalEntry entry)
    {
        var ids = entry switch { UpsertEntry u => u.Documents.Select(d => d.Id), DeleteEntry d => d.Ids, _ => [] };
        foreach (var id in ids) Replayed.Add((id, Checkpointer is not null));
    }

    public void Attach(Checkpointer checkpointer) => Checkpointer = checkpointer;

    public CutCounts WriteDocuments(IReadOnlyCollection<int> dirty, CollectionStore.Writer writer, bool fresh)
    {
        lock (_documents)
        {
            Cuts.Add([.. dirty.Order()]);
            var written = 0;
            foreach (var id in dirty)
            {
                if (FailNextCut && written++ == 1)
                {
                    FailNextCut = false;
                    throw new InvalidOperationException("the store write failed mid-cut");
                }
                if (_documents.TryGetValue(id, out var doc)) writer.PutDocument(id, doc, "text " + doc, Document.NoMetadata);
                else if (!fresh) writer.DeleteDocument(id);
            }
            return new CutCounts(_documents.Count, 0, _documents.Count == 0 ? 0 : _documents.Keys.Max() + 1);
        }
    }

    public void CheckpointCompleted(TimeSpan duration, long walPosition, long bytes) => CompletedPositions.Add(walPosition);

    public async ValueTask DisposeAsync()
    {
        if (Checkpointer is not null) await Checkpointer.CloseAsync();
        else if (Applier.Wal is not null) await Applier.Wal.DisposeAsync();
    }
}
