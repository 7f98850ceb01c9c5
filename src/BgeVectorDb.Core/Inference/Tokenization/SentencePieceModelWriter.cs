using System.Buffers.Binary;
using System.Text;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>SentencePiece piece type (<c>ModelProto.SentencePiece.Type</c>).</summary>
internal enum SentencePieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
}

/// <summary>One vocabulary entry of a SentencePiece model.</summary>
internal readonly record struct SentencePieceEntry(string Piece, float Score, SentencePieceType Type);

/// <summary>
/// Serializes a minimal SentencePiece Unigram <c>ModelProto</c> (google/sentencepiece
/// src/sentencepiece_model.proto, proto2) without generated protobuf types, so a Hugging Face
/// tokenizer.json can be fed to Microsoft.ML.Tokenizers' SentencePieceTokenizer.
/// Field numbers: ModelProto{pieces=1, trainer_spec=2, normalizer_spec=3};
/// SentencePiece{piece=1, score=2 (float), type=3 (enum)};
/// TrainerSpec{model_type=3 (UNIGRAM=1), vocab_size=4, unk_id=40, bos_id=41, eos_id=42, pad_id=43};
/// NormalizerSpec{name=1, precompiled_charsmap=2, add_dummy_prefix=3, remove_extra_whitespaces=4,
/// escape_whitespaces=5}.
/// </summary>
internal static class SentencePieceModelWriter
{
    private const int WireVarint = 0;
    private const int WireFixed32 = 5;
    private const int WireLengthDelimited = 2;

    /// <summary>Normalization and special ids of the model to write.</summary>
    public sealed record Options
    {
        public int UnknownId { get; init; }

        /// <summary>-1 = none.</summary>
        public int BosId { get; init; } = -1;

        /// <summary>-1 = none.</summary>
        public int EosId { get; init; } = -1;

        /// <summary>-1 = none.</summary>
        public int PadId { get; init; } = -1;

        /// <summary>Normalization rule name, e.g. "nmt_nfkc"; "identity" when there is no charsmap.</summary>
        public string NormalizerName { get; init; } = "identity";

        /// <summary>Compiled normalization rules (sentencepiece's precompiled_charsmap), may be empty.</summary>
        public byte[] PrecompiledCharsmap { get; init; } = [];

        public bool AddDummyPrefix { get; init; } = true;

        public bool RemoveExtraWhitespaces { get; init; } = true;

        public bool EscapeWhitespaces { get; init; } = true;
    }

    /// <summary>Returns the serialized ModelProto bytes of a Unigram model.</summary>
    public static byte[] WriteUnigram(IReadOnlyList<SentencePieceEntry> pieces, Options options)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(options);
        var model = new MemoryStream();
        var scratch = new MemoryStream();
        foreach (SentencePieceEntry entry in pieces)
        {
            scratch.SetLength(0);
            WriteString(scratch, 1, entry.Piece);
            WriteFloat(scratch, 2, entry.Score);
            WriteInt(scratch, 3, (int)entry.Type);
            WriteMessage(model, 1, scratch);
        }

        scratch.SetLength(0);
        WriteInt(scratch, 3, 1); // UNIGRAM
        WriteInt(scratch, 4, pieces.Count);
        WriteInt(scratch, 40, options.UnknownId);
        WriteInt(scratch, 41, options.BosId);
        WriteInt(scratch, 42, options.EosId);
        WriteInt(scratch, 43, options.PadId);
        WriteMessage(model, 2, scratch);

        scratch.SetLength(0);
        WriteString(scratch, 1, options.NormalizerName);
        if (options.PrecompiledCharsmap.Length > 0)
        {
            WriteBytes(scratch, 2, options.PrecompiledCharsmap);
        }

        WriteInt(scratch, 3, options.AddDummyPrefix ? 1 : 0);
        WriteInt(scratch, 4, options.RemoveExtraWhitespaces ? 1 : 0);
        WriteInt(scratch, 5, options.EscapeWhitespaces ? 1 : 0);
        WriteMessage(model, 3, scratch);
        return model.ToArray();
    }

    private static void WriteTag(Stream s, int field, int wireType) => WriteVarint(s, (ulong)((field << 3) | wireType));

    // int32 fields: negative values are sign-extended to 64 bits (10-byte varint), as protobuf does.
    private static void WriteInt(Stream s, int field, int value)
    {
        WriteTag(s, field, WireVarint);
        WriteVarint(s, unchecked((ulong)(long)value));
    }

    private static void WriteFloat(Stream s, int field, float value)
    {
        WriteTag(s, field, WireFixed32);
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
        s.Write(buffer);
    }

    private static void WriteString(Stream s, int field, string value) => WriteBytes(s, field, Encoding.UTF8.GetBytes(value));

    private static void WriteBytes(Stream s, int field, ReadOnlySpan<byte> value)
    {
        WriteTag(s, field, WireLengthDelimited);
        WriteVarint(s, (ulong)value.Length);
        s.Write(value);
    }

    private static void WriteMessage(Stream s, int field, MemoryStream message) =>
        WriteBytes(s, field, message.GetBuffer().AsSpan(0, (int)message.Length));

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        s.WriteByte((byte)value);
    }
}
