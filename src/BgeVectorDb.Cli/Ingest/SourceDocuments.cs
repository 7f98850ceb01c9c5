using System.Text.Json;
using BgeVectorDb.Cli.Json;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Ingest;

/// <summary>A line of an input file that cannot be turned into a document; the message starts with "file:line:".</summary>
internal sealed class SourceFormatException(string file, long line, string reason)
    : CliException($"{file}:{line}: {reason}")
{
    public string File { get; } = file;

    public long Line { get; } = line;
}

/// <summary>Input formats of <c>bgevdb ingest</c>.</summary>
internal enum SourceFormat
{
    /// <summary>One <c>{"id", "text", "metadata"?, "vector"?}</c> object per line.</summary>
    Jsonl,

    /// <summary>BEIR corpus.jsonl: <c>{"_id", "title", "text"}</c> per line.</summary>
    Beir,
}

/// <summary>A document read from a line of the input file (1-based line number).</summary>
internal readonly record struct SourceDocument(Document Document, long Line);

/// <summary>
/// Reads ingest input lazily, line by line. Blank lines are skipped. JSONL lines map to
/// <c>id</c> (string, or integer number taken as its text), <c>text</c> (string, may be absent when a
/// <c>vector</c> is given), <c>metadata</c> (flat object, see <see cref="ValueJson"/>) and <c>vector</c>
/// (array of numbers). BEIR lines map to id = <c>_id</c>, text = title + " " + text when the title is
/// non-empty (else text), metadata {"title": title} when the title is non-empty.
/// </summary>
internal static class SourceDocuments
{
    /// <summary>The file to read: for BEIR a folder holding corpus.jsonl (or the file itself).</summary>
    public static string ResolvePath(SourceFormat format, string path)
    {
        if (format == SourceFormat.Beir && Directory.Exists(path))
        {
            var corpus = Path.Combine(path, "corpus.jsonl");
            if (!System.IO.File.Exists(corpus))
            {
                throw new CliException($"{path}: no corpus.jsonl in this BEIR folder");
            }
            return corpus;
        }
        if (!System.IO.File.Exists(path))
        {
            throw new CliException(Directory.Exists(path)
                ? $"{path}: is a folder, expected a .jsonl file"
                : $"{path}: file not found");
        }
        return path;
    }

    /// <summary>Number of non-blank lines (the progress total).</summary>
    public static long CountLines(string file)
    {
        long count = 0;
        foreach (var line in System.IO.File.ReadLines(file))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Reads documents; throws <see cref="SourceFormatException"/> at the first bad line.</summary>
    public static IEnumerable<SourceDocument> Read(SourceFormat format, string file)
    {
        long lineNumber = 0;
        foreach (var line in System.IO.File.ReadLines(file))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            yield return new SourceDocument(ParseLine(format, line, file, lineNumber), lineNumber);
        }
    }

    /// <summary>Parses one line; errors name <paramref name="file"/>:<paramref name="lineNumber"/>.</summary>
    public static Document ParseLine(SourceFormat format, string line, string file, long lineNumber)
    {
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new SourceFormatException(file, lineNumber, $"invalid JSON: {e.Message}");
        }
        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SourceFormatException(file, lineNumber, $"expected a JSON object, got {ValueJson.Describe(root.ValueKind)}");
            }
            try
            {
                return format == SourceFormat.Beir ? Beir(BeirReader.ParseDocument(root)) : Jsonl(root);
            }
            catch (Exception e) when (e is JsonShapeException or FormatException)
            {
                throw new SourceFormatException(file, lineNumber, e.Message);
            }
        }
    }

    private static Document Jsonl(JsonElement root)
    {
        var doc = new Document { Id = BeirReader.ReadId(root, "id") };
        if (root.TryGetProperty("text", out var text) && text.ValueKind != JsonValueKind.Null)
        {
            doc.Text = text.ValueKind == JsonValueKind.String
                ? text.GetString()!
                : throw new JsonShapeException($"text: expected a string, got {ValueJson.Describe(text.ValueKind)}");
        }
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != JsonValueKind.Null)
        {
            ValueJson.AddObject(metadata, "metadata", doc.Metadata);
        }
        if (root.TryGetProperty("vector", out var vector) && vector.ValueKind != JsonValueKind.Null)
        {
            if (vector.ValueKind != JsonValueKind.Array)
            {
                throw new JsonShapeException($"vector: expected an array of numbers, got {ValueJson.Describe(vector.ValueKind)}");
            }
            var index = 0;
            foreach (var item in vector.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out var f) || !float.IsFinite(f))
                {
                    throw new JsonShapeException($"vector[{index}]: expected a finite number");
                }
                doc.Vector.Add(f);
                index++;
            }
        }
        if (!root.TryGetProperty("text", out _) && doc.Vector.Count == 0)
        {
            throw new JsonShapeException("missing \"text\" (or \"vector\")");
        }
        return doc;
    }

    /// <summary>A BEIR corpus document (parsed by <see cref="BeirReader.ParseDocument"/>) as a gRPC document.</summary>
    private static Document Beir(BeirDocument beir)
    {
        var doc = new Document { Id = beir.Id, Text = beir.FullText };
        if (beir.Title.Length > 0)
        {
            doc.Metadata["title"] = new Value { StringValue = beir.Title };
        }
        return doc;
    }
}
