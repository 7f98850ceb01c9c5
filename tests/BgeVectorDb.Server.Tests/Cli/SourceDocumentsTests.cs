using System.Text.Json;
using BgeVectorDb.Cli;
using BgeVectorDb.Cli.Ingest;
using BgeVectorDb.Server.Tests.Infrastructure;

namespace BgeVectorDb.Server.Tests.Cli;

public sealed class SourceDocumentsTests
{
    [Fact]
    public void Beir_reads_the_first_scifact_document_as_title_space_text_with_title_metadata()
    {
        var folder = SharedData.SciFact;
        var corpus = Path.Combine(folder, "corpus.jsonl");

        // Independent read of the first line.
        string firstLine;
        using (var reader = new StreamReader(corpus))
        {
            firstLine = reader.ReadLine()!;
        }
        using var expected = JsonDocument.Parse(firstLine);
        var id = expected.RootElement.GetProperty("_id").GetString()!;
        var title = expected.RootElement.GetProperty("title").GetString()!;
        var text = expected.RootElement.GetProperty("text").GetString()!;
        Assert.False(string.IsNullOrEmpty(title));

        var path = SourceDocuments.ResolvePath(SourceFormat.Beir, folder);
        Assert.Equal(corpus, path);
        var first = SourceDocuments.Read(SourceFormat.Beir, path).First();

        Assert.Equal(1, first.Line);
        Assert.Equal(id, first.Document.Id);
        Assert.Equal(title + " " + text, first.Document.Text);
        Assert.Single(first.Document.Metadata);
        Assert.Equal(title, first.Document.Metadata["title"].StringValue);
        Assert.Empty(first.Document.Vector);
    }

    [Fact]
    public void Beir_line_count_and_every_scifact_line_parse()
    {
        var path = SourceDocuments.ResolvePath(SourceFormat.Beir, SharedData.SciFact);
        var lines = File.ReadLines(path).Count(l => l.Trim().Length > 0);
        Assert.Equal(lines, SourceDocuments.CountLines(path));
        var docs = SourceDocuments.Read(SourceFormat.Beir, path).ToList();
        Assert.Equal(lines, docs.Count);
        Assert.Equal(docs.Count, docs.Select(d => d.Document.Id).Distinct().Count());
    }

    [Fact]
    public void Beir_without_title_uses_the_text_alone_and_no_metadata()
    {
        var doc = SourceDocuments.ParseLine(SourceFormat.Beir, "{\"_id\":\"7\",\"title\":\"\",\"text\":\"body only\"}", "c.jsonl", 3);
        Assert.Equal("7", doc.Id);
        Assert.Equal("body only", doc.Text);
        Assert.Empty(doc.Metadata);
    }

    [Fact]
    public void Beir_title_only_and_integer_ids_map_as_before()
    {
        var titleOnly = SourceDocuments.ParseLine(SourceFormat.Beir, "{\"_id\":12,\"title\":\"Only a title\"}", "c.jsonl", 1);
        Assert.Equal("12", titleOnly.Id);
        Assert.Equal("Only a title", titleOnly.Text);
        Assert.Equal("Only a title", titleOnly.Metadata["title"].StringValue);

        var nullTitle = SourceDocuments.ParseLine(SourceFormat.Beir, "{\"_id\":\"d\",\"title\":null,\"text\":\"t\"}", "c.jsonl", 2);
        Assert.Equal("t", nullTitle.Text);
        Assert.Empty(nullTitle.Metadata);
    }

    [Theory]
    [InlineData("{\"title\":\"t\",\"text\":\"x\"}", "missing \"_id\"")]
    [InlineData("{\"_id\":1.5,\"text\":\"x\"}", "_id: expected a non-empty string or an integer")]
    [InlineData("{\"_id\":\"a\"}", "missing \"text\"")]
    [InlineData("{\"_id\":\"a\",\"title\":3,\"text\":\"x\"}", "title: expected a string, got a number")]
    [InlineData("{\"_id\":\"a\",\"text\":[\"x\"]}", "text: expected a string, got an array")]
    [InlineData("[1]", "expected a JSON object, got an array")]
    public void Beir_bad_line_names_file_line_and_field(string line, string reason)
    {
        var e = Assert.Throws<SourceFormatException>(() => SourceDocuments.ParseLine(SourceFormat.Beir, line, "corpus.jsonl", 9));
        Assert.Equal(9, e.Line);
        Assert.Equal($"corpus.jsonl:9: {reason}", e.Message);
    }

    [Fact]
    public void Jsonl_reads_id_text_metadata_and_vector_and_skips_blank_lines()
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var file = dir.Sub("docs.jsonl");
        File.WriteAllLines(file,
        [
            "{\"id\":\"a\",\"text\":\"first\",\"metadata\":{\"year\":2020,\"tags\":[\"x\"],\"ok\":true,\"w\":0.5}}",
            "",
            "{\"id\":42,\"text\":\"second\"}",
            "{\"id\":\"v\",\"vector\":[0.5,-1,2e-1]}",
        ]);

        Assert.Equal(3, SourceDocuments.CountLines(file));
        var docs = SourceDocuments.Read(SourceFormat.Jsonl, file).ToList();
        Assert.Equal([1L, 3L, 4L], docs.Select(d => d.Line));
        var a = docs[0].Document;
        Assert.Equal("a", a.Id);
        Assert.Equal("first", a.Text);
        Assert.Equal(2020L, a.Metadata["year"].IntValue);
        Assert.Equal(["x"], a.Metadata["tags"].StringListValue.Values);
        Assert.True(a.Metadata["ok"].BoolValue);
        Assert.Equal(0.5, a.Metadata["w"].DoubleValue);
        Assert.Equal("42", docs[1].Document.Id);
        Assert.Equal("second", docs[1].Document.Text);
        Assert.Equal([0.5f, -1f, 0.2f], docs[2].Document.Vector);
        Assert.Equal("", docs[2].Document.Text);
    }

    [Theory]
    [InlineData("{\"id\":\"a\",\"text\":", "invalid JSON: ")]
    [InlineData("[1,2]", "expected a JSON object, got an array")]
    [InlineData("{\"text\":\"t\"}", "missing \"id\"")]
    [InlineData("{\"id\":\"\",\"text\":\"t\"}", "id: expected a non-empty string or an integer")]
    [InlineData("{\"id\":\"a\"}", "missing \"text\" (or \"vector\")")]
    [InlineData("{\"id\":\"a\",\"text\":5}", "text: expected a string, got a number")]
    [InlineData("{\"id\":\"a\",\"text\":\"t\",\"metadata\":{\"n\":{\"x\":1}}}", "metadata.n: expected a string, number, boolean or array of strings, got an object")]
    [InlineData("{\"id\":\"a\",\"vector\":[1,\"2\"]}", "vector[1]: expected a finite number")]
    public void Jsonl_bad_line_names_file_and_line(string line, string reason)
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var file = dir.Sub("bad.jsonl");
        File.WriteAllLines(file, ["{\"id\":\"ok\",\"text\":\"fine\"}", "", line]);

        var docs = SourceDocuments.Read(SourceFormat.Jsonl, file).GetEnumerator();
        Assert.True(docs.MoveNext());
        Assert.Equal("ok", docs.Current.Document.Id);
        var e = Assert.Throws<SourceFormatException>(() => docs.MoveNext());
        Assert.Equal(3, e.Line);
        Assert.StartsWith($"{file}:3: {reason}", e.Message);
    }

    [Fact]
    public void Resolve_path_reports_missing_files_and_folders_without_corpus()
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var missing = dir.Sub("nope.jsonl");
        Assert.Equal($"{missing}: file not found",
            Assert.Throws<CliException>(() => SourceDocuments.ResolvePath(SourceFormat.Jsonl, missing)).Message);
        Assert.Equal($"{dir.Path}: no corpus.jsonl in this BEIR folder",
            Assert.Throws<CliException>(() => SourceDocuments.ResolvePath(SourceFormat.Beir, dir.Path)).Message);
        Assert.Equal($"{dir.Path}: is a folder, expected a .jsonl file",
            Assert.Throws<CliException>(() => SourceDocuments.ResolvePath(SourceFormat.Jsonl, dir.Path)).Message);
    }
}
