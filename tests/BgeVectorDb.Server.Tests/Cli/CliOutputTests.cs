using BgeVectorDb.Cli.Commands;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Tests.Cli;

public sealed class CliOutputTests
{
    [Fact]
    public void Search_hits_show_rank_id_scores_snippet_and_timings()
    {
        var response = new SearchResponse
        {
            Reranked = true,
            IndexUsed = "hnsw",
            Timings = new StageTimings { EmbedUs = 3150, AnnUs = 420, FetchUs = 80, RerankUs = 41000, TotalUs = 44700 },
        };
        response.Hits.Add(new SearchHit { Id = "4983", AnnScore = 0.81234f, RerankScore = 7.25f, Text = "Microstructural  development\nof white matter" });
        response.Hits.Add(new SearchHit { Id = "x", AnnScore = -0.5f, Text = new string('a', 100) });

        using var writer = new StringWriter();
        SearchCommand.WriteHits(writer, response);
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(4, lines.Length);
        Assert.Equal("#  ID    RERANK  ANN      TEXT", lines[0]);
        Assert.Equal("1  4983  7.2500  0.8123   Microstructural development of white matter", lines[1]);
        Assert.Equal("2  x     -       -0.5000  " + new string('a', 77) + "...", lines[2]);
        Assert.Equal("embed 3.2 ms | ann 0.4 ms | fetch 0.1 ms | rerank 41.0 ms | total 44.7 ms (index hnsw, reranked)", lines[3]);
    }

    [Fact]
    public void No_hits_still_prints_timings()
    {
        using var writer = new StringWriter();
        SearchCommand.WriteHits(writer, new SearchResponse { Timings = new StageTimings { TotalUs = 1500 } });
        Assert.Equal(["no hits", "embed 0.0 ms | ann 0.0 ms | fetch 0.0 ms | rerank 0.0 ms | total 1.5 ms (not reranked)"],
            writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(0UL, "0 B")]
    [InlineData(1023UL, "1023 B")]
    [InlineData(1536UL, "1.5 KiB")]
    [InlineData(3UL * 1024 * 1024 * 1024, "3.0 GiB")]
    public void Bytes_use_binary_units(ulong bytes, string expected) => Assert.Equal(expected, Table.Bytes(bytes));
}
