using System.Text.Json;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// Turns a Hugging Face <c>tokenizer.json</c> with a Unigram model (XLM-RoBERTa style) into the
/// equivalent SentencePiece ModelProto bytes: pieces in vocabulary order (so ids stay the json ids),
/// the Precompiled normalizer's charsmap, and the Metaspace pre-tokenizer's prefix setting.
/// </summary>
/// <remarks>
/// Piece types: the <c>unk_id</c> entry is UNKNOWN; <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;pad&gt;</c>,
/// <c>&lt;mask&gt;</c> and other special added tokens are CONTROL, so like in the original
/// sentencepiece.bpe.model (which has no <c>&lt;mask&gt;</c>) their text in the input is tokenized as
/// ordinary characters rather than matched as a special token.
/// </remarks>
internal static class TokenizerJsonConverter
{
    public static byte[] ToSentencePieceModel(string tokenizerJsonPath)
    {
        using FileStream stream = File.OpenRead(tokenizerJsonPath);
        using JsonDocument doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        try
        {
            return Convert(doc.RootElement);
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"{tokenizerJsonPath}: not a Unigram tokenizer.json ({ex.Message}).", ex);
        }
    }

    private static byte[] Convert(JsonElement root)
    {
        JsonElement model = root.GetProperty("model");
        string type = model.GetProperty("type").GetString() ?? "";
        if (type != "Unigram")
        {
            throw new InvalidOperationException($"model.type is '{type}', expected 'Unigram'");
        }

        if (model.TryGetProperty("byte_fallback", out JsonElement byteFallback) && byteFallback.ValueKind == JsonValueKind.True)
        {
            throw new InvalidOperationException("byte_fallback Unigram models are not supported");
        }

        int unkId = model.GetProperty("unk_id").GetInt32();
        var special = new HashSet<string>(StringComparer.Ordinal) { "<s>", "</s>", "<pad>", "<mask>" };
        if (root.TryGetProperty("added_tokens", out JsonElement added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement token in added.EnumerateArray())
            {
                if (token.TryGetProperty("special", out JsonElement isSpecial) && isSpecial.ValueKind == JsonValueKind.True)
                {
                    special.Add(token.GetProperty("content").GetString()!);
                }
            }
        }

        var pieces = new List<SentencePieceEntry>();
        int bos = -1, eos = -1, pad = -1;
        foreach (JsonElement entry in model.GetProperty("vocab").EnumerateArray())
        {
            string piece = entry[0].GetString()!;
            float score = (float)entry[1].GetDouble();
            int id = pieces.Count;
            SentencePieceType pieceType = id == unkId ? SentencePieceType.Unknown
                : special.Contains(piece) ? SentencePieceType.Control
                : SentencePieceType.Normal;
            pieces.Add(new SentencePieceEntry(piece, score, pieceType));
            switch (piece)
            {
                case "<s>" when bos < 0: bos = id; break;
                case "</s>" when eos < 0: eos = id; break;
                case "<pad>" when pad < 0: pad = id; break;
            }
        }

        if (unkId < 0 || unkId >= pieces.Count)
        {
            throw new InvalidOperationException($"unk_id {unkId} is outside the vocabulary");
        }

        byte[] charsmap = FindPrecompiledCharsmap(root.TryGetProperty("normalizer", out JsonElement n) ? n : default) ?? [];
        bool addPrefix = FindAddPrefix(root.TryGetProperty("pre_tokenizer", out JsonElement p) ? p : default) ?? true;

        return SentencePieceModelWriter.WriteUnigram(pieces, new SentencePieceModelWriter.Options
        {
            UnknownId = unkId,
            BosId = bos,
            EosId = eos,
            PadId = pad,
            NormalizerName = charsmap.Length > 0 ? "nmt_nfkc" : "identity",
            PrecompiledCharsmap = charsmap,
            AddDummyPrefix = addPrefix,
            RemoveExtraWhitespaces = true,
            EscapeWhitespaces = true,
        });
    }

    // normalizer: {"type":"Precompiled","precompiled_charsmap":"<base64>"} alone or inside a Sequence.
    private static byte[]? FindPrecompiledCharsmap(JsonElement normalizer)
    {
        if (normalizer.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? type = normalizer.TryGetProperty("type", out JsonElement t) ? t.GetString() : null;
        if (type == "Precompiled"
            && normalizer.TryGetProperty("precompiled_charsmap", out JsonElement map)
            && map.ValueKind == JsonValueKind.String)
        {
            return System.Convert.FromBase64String(map.GetString()!);
        }

        if (type == "Sequence" && normalizer.TryGetProperty("normalizers", out JsonElement list))
        {
            foreach (JsonElement inner in list.EnumerateArray())
            {
                if (FindPrecompiledCharsmap(inner) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    // pre_tokenizer Metaspace: prepend_scheme "always"/"first" or legacy add_prefix_space true add "▁".
    private static bool? FindAddPrefix(JsonElement preTokenizer)
    {
        if (preTokenizer.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? type = preTokenizer.TryGetProperty("type", out JsonElement t) ? t.GetString() : null;
        if (type == "Metaspace")
        {
            if (preTokenizer.TryGetProperty("prepend_scheme", out JsonElement scheme) && scheme.ValueKind == JsonValueKind.String)
            {
                return scheme.GetString() != "never";
            }

            if (preTokenizer.TryGetProperty("add_prefix_space", out JsonElement prefix)
                && prefix.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return prefix.GetBoolean();
            }

            return true;
        }

        if (type == "Sequence" && preTokenizer.TryGetProperty("pretokenizers", out JsonElement list))
        {
            foreach (JsonElement inner in list.EnumerateArray())
            {
                if (FindAddPrefix(inner) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }
}
