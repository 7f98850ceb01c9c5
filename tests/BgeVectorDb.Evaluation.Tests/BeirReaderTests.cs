using BgeVectorDb.Common.Beir;
using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Evaluation.Tests;

public class BeirReaderTests
{
    [Fact]
    public void Reads_scifact_as_provenance_describes_it()
    {
        var corpus = BeirReader.ReadCorpus(SharedData.SciFact).ToList();
        Assert.Equal(5183, corpus.Count);
        Assert.Equal(corpus[0].Title + " " + corpus[0].Text, corpus[0].FullText);
        Assert.Equal(1109, BeirReader.ReadQueries(SharedData.SciFact).Count);
        var test = BeirReader.ReadQrels(SharedData.SciFact, "test");
        Assert.Equal(339, test.Count);
        Assert.Equal(new BeirQrel("1", "31715818", 1), test[0]);
        Assert.Equal(300, BeirReader.GroupQrels(test).Count);
    }

    [Fact]
    public void Reads_the_msmarco_subset_with_graded_qrels_and_no_header()
    {
        Assert.Equal(5000, BeirReader.ReadCorpus(SharedData.MsMarco).Count());
        var qrels = BeirReader.ReadQrels(SharedData.MsMarco, "test");
        Assert.Equal(4102, qrels.Count);
        Assert.Equal(new BeirQrel("19335", "1720389", 1), qrels[0]);
        Assert.Equal([1, 2, 3], qrels.Select(q => q.Relevance).Distinct().Order());
        Assert.Equal(43, BeirReader.GroupQrels(qrels).Count);
    }

    [Fact]
    public void A_bad_line_names_its_file_and_line()
    {
        using var dir = new TempDirectory("beir");
        File.WriteAllLines(Path.Combine(dir.Path, "corpus.jsonl"), ["{\"_id\": \"d1\", \"text\": \"ok\"}", "", "{\"_id\": 7, \"title\": 3, \"text\": \"x\"}"]);
        var e = Assert.Throws<EngineException>(() => BeirReader.ReadCorpus(dir.Path).ToList());
        Assert.Equal(EngineErrorKind.InvalidArgument, e.Kind);
        Assert.Equal($"{dir.Path}/corpus.jsonl:3", e.Field);
        Assert.Contains("title: expected a string, got a number", e.Message);

        Directory.CreateDirectory(Path.Combine(dir.Path, "qrels"));
        File.WriteAllLines(Path.Combine(dir.Path, "qrels", "test.tsv"), ["query-id\tcorpus-id\tscore", "q1\td1\t1", "q1\td2\thigh"]);
        var q = Assert.Throws<EngineException>(() => BeirReader.ReadQrels(dir.Path, "test"));
        Assert.Equal($"{dir.Path}/qrels/test.tsv:3", q.Field);

        // Integer ids are taken as their text.
        File.WriteAllLines(Path.Combine(dir.Path, "corpus.jsonl"), ["{\"_id\": 42, \"text\": \"x\"}"]);
        Assert.Equal(new BeirDocument("42", "", "x"), BeirReader.ReadCorpus(dir.Path).Single());
    }
}
