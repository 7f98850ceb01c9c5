using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace BgeVectorDb.Core.Tests.Tokenization;

/// <summary>
/// Test-side stand-in for transformers' XLMRobertaConverter: reads a SentencePiece .model
/// (protobuf, parsed by hand here independently of the Core writer) and writes the
/// tokenizer.json Hugging Face would produce: vocab = &lt;s&gt;,&lt;pad&gt;,&lt;/s&gt;,&lt;unk&gt; + pieces[3:] +
/// &lt;mask&gt;, unk_id 3, Precompiled(charsmap) + Replace(" {2,}"), Metaspace.
/// </summary>
internal static class TokenizerJsonWriter
{
    public sealed record SpmModel(List<(string Piece, float Score, int Type)> Pieces, byte[] Charsmap, bool AddDummyPrefix);

    public static SpmModel ReadModel(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        var pieces = new List<(string, float, int)>();
        byte[] charsmap = [];
        bool addDummyPrefix = true;
        foreach ((int field, ReadOnlyMemory<byte> value) in Fields(data))
        {
            if (field == 1)
            {
                string piece = "";
                float score = 0;
                int type = 1;
                foreach ((int f, ReadOnlyMemory<byte> v) in Fields(value))
                {
                    switch (f)
                    {
                        case 1: piece = Encoding.UTF8.GetString(v.Span); break;
                        case 2: score = BinaryPrimitives.ReadSingleLittleEndian(v.Span); break;
                        case 3: type = (int)ReadVarint(v.Span, out _); break;
                    }
                }

                pieces.Add((piece, score, type));
            }
            else if (field == 3)
            {
                foreach ((int f, ReadOnlyMemory<byte> v) in Fields(value))
                {
                    if (f == 2)
                    {
                        charsmap = v.ToArray();
                    }
                    else if (f == 3)
                    {
                        addDummyPrefix = ReadVarint(v.Span, out _) != 0;
                    }
                }
            }
        }

        return new SpmModel(pieces, charsmap, addDummyPrefix);
    }

    public static void WriteXlmRobertaTokenizerJson(string spmModelPath, string outputPath, bool includeCharsmap = true)
    {
        SpmModel model = ReadModel(spmModelPath);
        Assert.Equal(("<unk>", 2), (model.Pieces[0].Piece, model.Pieces[0].Type));
        Assert.Equal("<s>", model.Pieces[1].Piece);
        Assert.Equal("</s>", model.Pieces[2].Piece);

        using var stream = File.Create(outputPath);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteStartArray("added_tokens");
        string[] specials = ["<s>", "<pad>", "</s>", "<unk>"];
        for (int i = 0; i < specials.Length; i++)
        {
            WriteAdded(w, i, specials[i]);
        }

        WriteAdded(w, model.Pieces.Count + 1, "<mask>");
        w.WriteEndArray();

        w.WriteStartObject("normalizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("normalizers");
        if (includeCharsmap)
        {
            w.WriteStartObject();
            w.WriteString("type", "Precompiled");
            w.WriteString("precompiled_charsmap", Convert.ToBase64String(model.Charsmap));
            w.WriteEndObject();
        }

        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", " {2,}");
        w.WriteEndObject();
        w.WriteString("content", " ");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Metaspace");
        w.WriteString("replacement", "\u2581");
        w.WriteString("prepend_scheme", model.AddDummyPrefix ? "always" : "never");
        w.WriteBoolean("split", true);
        w.WriteEndObject();

        w.WriteStartObject("model");
        w.WriteString("type", "Unigram");
        w.WriteNumber("unk_id", 3);
        w.WriteStartArray("vocab");
        foreach (string s in specials)
        {
            w.WriteStartArray();
            w.WriteStringValue(s);
            w.WriteNumberValue(0.0);
            w.WriteEndArray();
        }

        foreach ((string piece, float score, _) in model.Pieces.Skip(3))
        {
            w.WriteStartArray();
            w.WriteStringValue(piece);
            w.WriteNumberValue(score);
            w.WriteEndArray();
        }

        w.WriteStartArray();
        w.WriteStringValue("<mask>");
        w.WriteNumberValue(0.0);
        w.WriteEndArray();
        w.WriteEndArray();
        w.WriteBoolean("byte_fallback", false);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteAdded(Utf8JsonWriter w, int id, string content)
    {
        w.WriteStartObject();
        w.WriteNumber("id", id);
        w.WriteString("content", content);
        w.WriteBoolean("special", true);
        w.WriteEndObject();
    }

    private static List<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, ReadOnlyMemory<byte>)>();
        int pos = 0;
        while (pos < message.Length)
        {
            ulong tag = ReadVarint(message.Span[pos..], out int n);
            pos += n;
            int field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    ReadVarint(message.Span[pos..], out n);
                    fields.Add((field, message.Slice(pos, n)));
                    pos += n;
                    break;
                case 1:
                    fields.Add((field, message.Slice(pos, 8)));
                    pos += 8;
                    break;
                case 2:
                    int len = (int)ReadVarint(message.Span[pos..], out n);
                    pos += n;
                    fields.Add((field, message.Slice(pos, len)));
                    pos += len;
                    break;
                case 5:
                    fields.Add((field, message.Slice(pos, 4)));
                    pos += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported wire type in tag {tag}.");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, out int length)
    {
        ulong value = 0;
        int shift = 0;
        length = 0;
        while (true)
        {
            byte b = data[length++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }

            shift += 7;
        }
    }
}
