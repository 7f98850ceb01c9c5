using Google.Protobuf;

namespace BgeVectorDb.Synthetic.Internal;

/// <summary>Vocabulary size implied by a tokenizer file.</summary>
internal static class TokenizerVocab
{
    /// <summary>BERT vocab.txt: one token per line. XLM-R sentencepiece.bpe.model: SentencePiece pieces + 2
    /// (fairseq shifts ids by one and appends &lt;mask&gt;, e.g. 250000 pieces -> 250002).</summary>
    public static int Size(SyntheticModelFamily family, string tokenizerFile) => family == SyntheticModelFamily.Bert
        ? File.ReadLines(tokenizerFile).Count(line => line.Length > 0)
        : CountSentencePieces(tokenizerFile) + 2;

    /// <summary>Counts field 1 (repeated SentencePiece pieces) of a serialized sentencepiece.ModelProto.</summary>
    private static int CountSentencePieces(string path)
    {
        using var stream = File.OpenRead(path);
        using var input = new CodedInputStream(stream);
        var pieces = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                pieces++;
            }

            input.SkipLastField();
        }

        if (pieces == 0)
        {
            throw new InvalidDataException($"'{path}' holds no SentencePiece pieces; is it a sentencepiece model file?");
        }

        return pieces;
    }
}
