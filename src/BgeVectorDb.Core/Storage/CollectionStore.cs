using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Primitives;
using FASTER.core;

namespace BgeVectorDb.Core.Storage;

/// <summary>One record of a collection's FasterKV store.</summary>
internal abstract record StoreRecord;

/// <summary>Document at an internal id (text and metadata; the vector lives in the index node).</summary>
internal sealed record DocumentRecord(int InternalId, string Id, string Text, IReadOnlyDictionary<string, MetadataValue> Metadata) : StoreRecord;

internal sealed record NodeRecord(IndexNode Node) : StoreRecord;

/// <summary>Collection-wide metadata at a checkpoint: the index state and the WAL position covered.
/// <paramref name="FreeIds"/> is kept in the format for an index that reuses ids (empty: ids are never reused).</summary>
internal sealed record MetaRecord(IndexState State, long WalPosition, long Documents, long DeletedTotal, int Slots, int[] FreeIds) : StoreRecord;

/// <summary>
/// A collection's FasterKV store (<c>SpanByte</c> keys and values): documents under their internal id,
/// index nodes under <c>2^40 + id</c>, the meta record under <c>2^41</c>. Each value is
/// <c>[kind u8][payload][xxhash3-64]</c>. Records are written only during a checkpoint's consistent
/// cut, then FASTER takes a fold-over checkpoint (log flushed, hash index saved) under
/// <c>checkpoints/</c>. Not thread-safe: the owner serialises checkpoints.
/// </summary>
internal sealed class CollectionStore : IDisposable
{
    private const long NodeKeyBase = 1L << 40;
    private const long MetaKey = 1L << 41;
    private const byte DocumentKind = 1;
    private const byte NodeKind = 2;
    private const byte MetaKind = 3;
    private const byte RecordVersion = 1;

    private readonly IDevice _device;
    private readonly FasterKV<SpanByte, SpanByte> _kv;
    private byte[] _scratch = GC.AllocateUninitializedArray<byte>(1 << 16, pinned: true);

    // A FASTER checkpoint whose wait was cancelled and that may still be flushing (see CheckpointAsync).
    private Task? _unfinished;

    private CollectionStore(string storeDirectory, string checkpointDirectory, TimeSpan? checkpointTimeout)
    {
        CheckpointTimeout = checkpointTimeout ?? DefaultCheckpointTimeout;
        Directory.CreateDirectory(storeDirectory);
        Directory.CreateDirectory(checkpointDirectory);
        StoreDirectory = storeDirectory;
        CheckpointDirectory = checkpointDirectory;
        var device = Devices.CreateLogDevice(Path.Combine(storeDirectory, "hlog.log"), recoverDevice: true);
        _device = DeviceHook?.Invoke(storeDirectory, device) ?? device;
        _kv = new FasterKV<SpanByte, SpanByte>(1L << 16,
            new LogSettings { LogDevice = _device, PageSizeBits = 22, MemorySizeBits = 25, SegmentSizeBits = 30 },
            new CheckpointSettings { CheckpointDir = checkpointDirectory });
    }

    /// <summary>Test hook: wraps the log device of each store opened from then on (given the store's folder), e.g. to
    /// make its writes slow. Set by a startup hook in the server tests; null in production.</summary>
    internal static Func<string, IDevice, IDevice>? DeviceHook { get; set; }

    public string StoreDirectory { get; }

    public string CheckpointDirectory { get; }

    /// <param name="checkpointTimeout">Longest wait for one checkpoint (Storage:CheckpointTimeoutSeconds); null = 10 minutes.</param>
    public static CollectionStore Create(string storeDirectory, string checkpointDirectory, TimeSpan? checkpointTimeout = null) =>
        new(storeDirectory, checkpointDirectory, checkpointTimeout);

    /// <summary>Opens the store as of a FASTER checkpoint token.</summary>
    public static CollectionStore Recover(string storeDirectory, string checkpointDirectory, Guid token, TimeSpan? checkpointTimeout = null)
    {
        var store = new CollectionStore(storeDirectory, checkpointDirectory, checkpointTimeout);
        try
        {
            store._kv.Recover(token);
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>A writer for one checkpoint's cut; dispose it before <see cref="CheckpointAsync"/>.</summary>
    public Writer BeginWrite() => new(this);

    /// <summary>Free bytes below which a checkpoint still running is taken to have run out of disk space.</summary>
    private const long LowDiskBytes = 1L << 20;

    /// <summary>How long the volume may stay below <see cref="LowDiskBytes"/> while a checkpoint runs.</summary>
    private static readonly TimeSpan LowDiskGrace = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan DefaultCheckpointTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Longest wait for FASTER to finish one checkpoint (Storage:CheckpointTimeoutSeconds).</summary>
    public TimeSpan CheckpointTimeout { get; }

    /// <summary>Makes everything written so far durable; returns the FASTER checkpoint token. FASTER 2.6.5 never
    /// completes a checkpoint whose file writes fail (e.g. the disk is full), so the wait is bounded: it gives up once
    /// the volume stays nearly full, or after <see cref="CheckpointTimeout"/>, with a
    /// <see cref="StoreCheckpointFailedException"/>. After that this store must not be used again (dispose it with
    /// <see cref="Abandon"/>; the checkpointer writes a new store generation in a fresh folder, never reopening these
    /// files while FASTER may still write them).
    /// <paramref name="cancellationToken"/> (e.g. the shutdown deadline) stops the wait with an
    /// <see cref="OperationCanceledException"/>: FASTER's flush cannot be cancelled, so it goes on in the background and
    /// its checkpoint is never used (no manifest names it; the next checkpoint's pruning deletes its files). The store
    /// stays usable: the next checkpoint first waits for that flush (within its own bounds), and
    /// <see cref="Dispose"/> does not wait for it. (A new generation's first checkpoint is not cancelled: the rewrite
    /// would dispose and delete that store under FASTER's flush; the catalog's deadline bounds it instead.)</summary>
    public async Task<Guid> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_unfinished is { IsCompleted: false } previous) await WaitAsync(previous, started, cancellationToken).ConfigureAwait(false);
        _unfinished = null;
        Task<(bool Success, Guid Token)> task;
        try
        {
            task = _kv.TakeFullCheckpointAsync(CheckpointType.FoldOver).AsTask();
        }
        catch (Exception ex) when (ex is IOException or FasterException or InvalidOperationException)
        {
            throw Failed(ex.Message);
        }
        await WaitAsync(task, started, cancellationToken).ConfigureAwait(false);
        (bool Success, Guid Token) result;
        try
        {
            result = await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or FasterException or InvalidOperationException)
        {
            throw Failed(ex.Message);
        }
        if (!result.Success) throw Failed("FASTER did not start the checkpoint");
        return result.Token;
    }

    /// <summary>Waits for a FASTER checkpoint, at most until <see cref="CheckpointTimeout"/> after
    /// <paramref name="started"/>, while the volume has room, and until <paramref name="cancellationToken"/> fires
    /// (then the checkpoint is left to finish in the background).</summary>
    private async Task WaitAsync(Task task, long started, CancellationToken cancellationToken)
    {
        long? lowSince = null;
        while (!task.IsCompleted)
        {
            try
            {
                await task.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _unfinished = task;
                _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);   // observe a late fault
                throw;
            }
            catch (Exception) when (task.IsCompleted)
            {
                break;   // the caller reads the outcome
            }
            if (task.IsCompleted) break;
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (FreeBytes() < LowDiskBytes)
            {
                lowSince ??= now;
                if (System.Diagnostics.Stopwatch.GetElapsedTime(lowSince.Value, now) >= LowDiskGrace) throw Abandoned(task, "did not complete");
            }
            else
            {
                lowSince = null;
            }
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started, now) >= CheckpointTimeout)
            {
                throw Abandoned(task, $"did not complete within {CheckpointTimeout.TotalSeconds:F0} s");
            }
        }
    }

    private StoreCheckpointFailedException Abandoned(Task task, string what)
    {
        _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);   // observe a late fault
        return Failed($"the FASTER checkpoint {what}");
    }

    private StoreCheckpointFailedException Failed(string detail)
    {
        return DiskSpace.FullReason(StoreDirectory, detail) is { } full
            ? new StoreCheckpointFailedException(full, diskFull: true)
            : new StoreCheckpointFailedException($"checkpoint of the store in {Path.GetFullPath(StoreDirectory)} failed: {detail}", diskFull: false);
    }

    private long FreeBytes() => DiskSpace.FreeBytes(StoreDirectory);

    /// <summary>Drops a store whose checkpoint failed: FASTER may not close it cleanly (its checkpoint never
    /// finished), so the close is given a moment and otherwise left to run in the background.</summary>
    public void Abandon()
    {
        var close = Task.Run(() =>
        {
            try
            {
                Dispose();
            }
            catch (Exception ex) when (ex is IOException or FasterException or InvalidOperationException or ObjectDisposedException)
            {
                // the failed store's last good checkpoint is on disk; nothing else to save
            }
        });
        close.Wait(TimeSpan.FromSeconds(2));
    }

    /// <summary>Deletes the FASTER checkpoint files of <paramref name="token"/>.</summary>
    public void Purge(Guid token)
    {
        foreach (var dir in CheckpointFolders(CheckpointDirectory, token))
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Folders FASTER writes for one full checkpoint.</summary>
    public static IEnumerable<string> CheckpointFolders(string checkpointDirectory, Guid token) =>
    [
        Path.Combine(checkpointDirectory, "index-checkpoints", token.ToString()),
        Path.Combine(checkpointDirectory, "cpr-checkpoints", token.ToString()),
    ];

    /// <summary>Every live record (latest version of each key); values are checksum-verified. Two
    /// sequential scans of the log: the first finds each key's latest address (or tombstone), the second
    /// decodes only those records.</summary>
    public IEnumerable<StoreRecord> ReadAll()
    {
        var begin = _kv.Log.BeginAddress;
        var end = _kv.Log.TailAddress;
        var latest = new Dictionary<long, long>();
        using (var scan = _kv.Log.Scan(begin, end))
        {
            while (scan.GetNext(out var info))
            {
                if (info.Invalid) continue;
                var key = BinaryPrimitives.ReadInt64LittleEndian(scan.GetKey().AsReadOnlySpan());
                latest[key] = info.Tombstone ? -1 : scan.CurrentAddress;
            }
        }
        using (var scan = _kv.Log.Scan(begin, end))
        {
            while (scan.GetNext(out var info))
            {
                if (info.Invalid || info.Tombstone) continue;
                var key = BinaryPrimitives.ReadInt64LittleEndian(scan.GetKey().AsReadOnlySpan());
                if (latest.TryGetValue(key, out var address) && address == scan.CurrentAddress)
                {
                    yield return Decode(key, scan.GetValue().AsReadOnlySpan());
                }
            }
        }
    }

    public long SizeBytes => DirectorySize(StoreDirectory);

    /// <summary>Bytes of the FasterKV log (its address span: every record version still in it).</summary>
    public long LogBytes => _kv.Log.TailAddress - _kv.Log.BeginAddress;

    internal static long DirectorySize(string directory) =>
        Directory.Exists(directory) ? new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

    /// <summary>Closes the store. While a checkpoint whose wait was cancelled still flushes (see
    /// <see cref="CheckpointAsync"/>), FASTER may not close cleanly under it, so the close runs in the background, as
    /// <see cref="Abandon"/> does, without waiting: the shutdown deadline may have come.</summary>
    public void Dispose()
    {
        if (_unfinished is not { IsCompleted: false })
        {
            _kv.Dispose();
            _device.Dispose();
            return;
        }
        _ = Task.Run(() =>
        {
            try
            {
                _kv.Dispose();
                _device.Dispose();
            }
            catch (Exception ex) when (ex is IOException or FasterException or InvalidOperationException or ObjectDisposedException)
            {
                // its checkpoint was never used; the last good one is on disk
            }
        });
    }

    internal sealed class Writer : IDisposable
    {
        private readonly CollectionStore _store;
        private readonly ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, SpanByteFunctions<Empty>> _session;

        public Writer(CollectionStore store)
        {
            _store = store;
            _session = store._kv.For(new SpanByteFunctions<Empty>()).NewSession<SpanByteFunctions<Empty>>();
        }

        public void PutDocument(int internalId, string id, string text, IReadOnlyDictionary<string, MetadataValue> metadata) =>
            Put(internalId, DocumentKind, w =>
            {
                w.Write(id);
                w.Write(text);
                WalCodec.WriteMetadata(w, metadata);
            });

        public void PutNode(IndexNode node) =>
            Put(NodeKeyBase + node.Id, NodeKind, w =>
            {
                w.Write(node.Id);
                w.Write(node.Deleted);
                w.Write7BitEncodedInt(node.Vector.Length);
                w.Write(MemoryMarshal.AsBytes(node.Vector.AsSpan()));
                w.Write7BitEncodedInt(node.Links.Length);
                foreach (var level in node.Links)
                {
                    w.Write7BitEncodedInt(level.Length);
                    w.Write(MemoryMarshal.AsBytes(level.AsSpan()));
                }
            });

        public void PutMeta(MetaRecord meta) =>
            Put(MetaKey, MetaKind, w =>
            {
                w.Write(meta.State.Kind);
                w.Write(meta.State.EntryPoint);
                w.Write(meta.State.MaxLevel);
                w.Write(meta.State.NodeCapacity);
                w.Write(meta.WalPosition);
                w.Write(meta.Documents);
                w.Write(meta.DeletedTotal);
                w.Write(meta.Slots);
                w.Write7BitEncodedInt(meta.FreeIds.Length);
                w.Write(MemoryMarshal.AsBytes(meta.FreeIds.AsSpan()));
            });

        public void DeleteDocument(int internalId) => Delete(internalId);

        public void DeleteNode(int internalId) => Delete(NodeKeyBase + internalId);

        private void Put(long key, byte kind, Action<BinaryWriter> write)
        {
            using var ms = new MemoryStream();
            using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(RecordVersion);
                w.Write(kind);
                write(w);
                w.Write(XxHash3.HashToUInt64(ms.GetBuffer().AsSpan(0, (int)ms.Length)));
            }
            var length = (int)ms.Length;
            if (_store._scratch.Length < length) _store._scratch = GC.AllocateUninitializedArray<byte>(Math.Max(length, _store._scratch.Length * 2), pinned: true);
            ms.GetBuffer().AsSpan(0, length).CopyTo(_store._scratch);
            Span<byte> keyBytes = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(keyBytes, key);
            var keySpan = SpanByte.FromFixedSpan(keyBytes);
            var valueSpan = SpanByte.FromFixedSpan(_store._scratch.AsSpan(0, length));
            _session.Upsert(ref keySpan, ref valueSpan);
        }

        private void Delete(long key)
        {
            Span<byte> keyBytes = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(keyBytes, key);
            var keySpan = SpanByte.FromFixedSpan(keyBytes);
            _session.Delete(ref keySpan);
        }

        public void Dispose()
        {
            _session.CompletePending(wait: true);
            _session.Dispose();
        }
    }

    private static StoreRecord Decode(long key, ReadOnlySpan<byte> value)
    {
        if (value.Length < 2 + sizeof(ulong)) throw new InvalidDataException($"store record {key}: too short");
        var body = value[..^sizeof(ulong)];
        if (XxHash3.HashToUInt64(body) != BinaryPrimitives.ReadUInt64LittleEndian(value[^sizeof(ulong)..]))
        {
            throw new InvalidDataException($"store record {key}: checksum mismatch (store is corrupt)");
        }
        if (body[0] != RecordVersion) throw new InvalidDataException($"store record {key}: version {body[0]} is not supported (expected {RecordVersion})");
        using var ms = new MemoryStream(body.ToArray(), writable: false);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        r.ReadByte();
        var kind = r.ReadByte();
        switch (kind)
        {
            case DocumentKind:
                return new DocumentRecord((int)key, r.ReadString(), r.ReadString(), WalCodec.ReadMetadata(r));
            case NodeKind:
            {
                var id = r.ReadInt32();
                var deleted = r.ReadBoolean();
                var vector = new float[r.Read7BitEncodedInt()];
                r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
                var links = new int[r.Read7BitEncodedInt()][];
                for (var l = 0; l < links.Length; l++)
                {
                    links[l] = new int[r.Read7BitEncodedInt()];
                    r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(links[l].AsSpan()));
                }
                return new NodeRecord(new IndexNode(id, deleted, vector, links));
            }
            case MetaKind:
            {
                var state = new IndexState(r.ReadString(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
                var (walPosition, documents, deletedTotal, slots) = (r.ReadInt64(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32());
                var free = new int[r.Read7BitEncodedInt()];
                r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(free.AsSpan()));
                return new MetaRecord(state, walPosition, documents, deletedTotal, slots, free);
            }
            default:
                throw new InvalidDataException($"store record {key}: unknown kind {kind}");
        }
    }
}

/// <summary>A FasterKV checkpoint that failed or never completed; <see cref="DiskFull"/> when the volume is (nearly) full.</summary>
public sealed class StoreCheckpointFailedException(string message, bool diskFull) : IOException(message)
{
    public bool DiskFull { get; } = diskFull;
}
