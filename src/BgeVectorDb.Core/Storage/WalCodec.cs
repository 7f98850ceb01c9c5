using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Storage;

/// <summary>Binary form of WAL entries: <c>[version u8][type u8][payload][xxhash3-64 u64 LE]</c>
/// (version 2; the hash covers every byte before it). Version 1 entries (no trailing hash) are still
/// read. Strings are length-prefixed UTF-8, counts 7-bit varints, vectors raw little-endian floats.</summary>
internal static class WalCodec
{
    private const byte Version = 2;
    private const byte LegacyVersion = 1;
    private const int ChecksumBytes = sizeof(ulong);
    private const byte UpsertType = 1;
    private const byte DeleteType = 2;

    public static byte[] Encode(WalEntry entry)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Version);
            switch (entry)
            {
                case UpsertEntry u:
                    w.Write(UpsertType);
                    w.Write7BitEncodedInt(u.Documents.Count);
                    foreach (var d in u.Documents) WriteDocument(w, d);
                    break;
                case DeleteEntry d:
                    w.Write(DeleteType);
                    w.Write7BitEncodedInt(d.Ids.Count);
                    foreach (var id in d.Ids) w.Write(id);
                    break;
                default:
                    throw new ArgumentException($"unknown entry {entry.GetType().Name}", nameof(entry));
            }
            w.Write(XxHash3.HashToUInt64(ms.GetBuffer().AsSpan(0, (int)ms.Length)));
        }
        return ms.ToArray();
    }

    /// <summary>Decodes one entry; throws InvalidDataException when the version is unknown, the
    /// checksum does not match or the payload is cut short.</summary>
    public static WalEntry Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 2) throw new InvalidDataException($"WAL entry of {bytes.Length} bytes is too short");
        var version = bytes[0];
        if (version == Version)
        {
            if (bytes.Length < 2 + ChecksumBytes) throw new InvalidDataException($"WAL entry of {bytes.Length} bytes is too short");
            var body = bytes[..^ChecksumBytes];
            var expected = BinaryPrimitives.ReadUInt64LittleEndian(bytes[^ChecksumBytes..]);
            if (XxHash3.HashToUInt64(body) != expected) throw new InvalidDataException("WAL entry checksum mismatch");
            bytes = body;
        }
        else if (version != LegacyVersion)
        {
            throw new InvalidDataException($"WAL entry version {version} is not supported (expected {Version})");
        }
        try
        {
            return DecodeBody(bytes);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("WAL entry is cut short", ex);
        }
    }

    private static WalEntry DecodeBody(ReadOnlySpan<byte> bytes)
    {
        using var ms = new MemoryStream(bytes.ToArray(), writable: false);
        using var r = new BinaryReader(ms, Encoding.UTF8);
        r.ReadByte();
        var type = r.ReadByte();
        var count = r.Read7BitEncodedInt();
        switch (type)
        {
            case UpsertType:
                var docs = new StoredDocument[count];
                for (var i = 0; i < count; i++) docs[i] = ReadDocument(r);
                return new UpsertEntry(docs);
            case DeleteType:
                var ids = new string[count];
                for (var i = 0; i < count; i++) ids[i] = r.ReadString();
                return new DeleteEntry(ids);
            default:
                throw new InvalidDataException($"unknown WAL entry type {type}");
        }
    }

    internal static void WriteDocument(BinaryWriter w, StoredDocument d)
    {
        w.Write(d.Id);
        w.Write(d.Text);
        WriteMetadata(w, d.Metadata);
        w.Write7BitEncodedInt(d.Vector.Length);
        w.Write(MemoryMarshal.AsBytes(d.Vector.AsSpan()));
    }

    internal static void WriteMetadata(BinaryWriter w, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        w.Write7BitEncodedInt(metadata.Count);
        foreach (var (key, value) in metadata)
        {
            w.Write(key);
            w.Write((byte)value.Kind);
            switch (value.Kind)
            {
                case MetadataKind.String: w.Write(value.StringValue!); break;
                case MetadataKind.Int: w.Write(value.IntValue); break;
                case MetadataKind.Double: w.Write(value.DoubleValue); break;
                case MetadataKind.Bool: w.Write(value.BoolValue); break;
                case MetadataKind.StringList:
                    w.Write7BitEncodedInt(value.StringList!.Count);
                    foreach (var s in value.StringList) w.Write(s);
                    break;
            }
        }
    }

    internal static StoredDocument ReadDocument(BinaryReader r)
    {
        var id = r.ReadString();
        var text = r.ReadString();
        var meta = ReadMetadata(r);
        var dim = r.Read7BitEncodedInt();
        var vector = new float[dim];
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
        return new StoredDocument(id, text, meta, vector);
    }

    internal static Dictionary<string, MetadataValue> ReadMetadata(BinaryReader r)
    {
        var metaCount = r.Read7BitEncodedInt();
        var meta = new Dictionary<string, MetadataValue>(metaCount, StringComparer.Ordinal);
        for (var i = 0; i < metaCount; i++)
        {
            var key = r.ReadString();
            var kind = (MetadataKind)r.ReadByte();
            meta[key] = kind switch
            {
                MetadataKind.String => MetadataValue.Of(r.ReadString()),
                MetadataKind.Int => MetadataValue.Of(r.ReadInt64()),
                MetadataKind.Double => MetadataValue.Of(r.ReadDouble()),
                MetadataKind.Bool => MetadataValue.Of(r.ReadBoolean()),
                MetadataKind.StringList => MetadataValue.Of(ReadStrings(r)),
                _ => throw new InvalidDataException($"unknown metadata kind {(byte)kind}"),
            };
        }
        return meta;
    }

    private static string[] ReadStrings(BinaryReader r)
    {
        var n = r.Read7BitEncodedInt();
        var list = new string[n];
        for (var i = 0; i < n; i++) list[i] = r.ReadString();
        return list;
    }
}
