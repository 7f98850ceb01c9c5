using System.CommandLine;
using System.Globalization;
using BgeVectorDb.Cli.Json;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb search COLLECTION "query" [-k 10] [--candidates N] [--no-rerank] [--filter JSON] [--instruction TEXT]</c>;
/// instead of a query text, <c>--vector '[...]'</c> (Search.SearchByVector) or <c>--like ID</c> (Search.SearchByDocument).</summary>
internal static class SearchCommand
{
    /// <summary>Server default of candidates passed to the reranker.</summary>
    public const int DefaultCandidates = 100;

    /// <summary>Characters of text shown per hit.</summary>
    public const int SnippetLength = 80;

    public static Command Create(CliGlobals g)
    {
        var collection = new Argument<string>("COLLECTION") { Description = "Collection to search." };
        var query = new Argument<string?>("QUERY") { Description = "Query text (or give --vector or --like).", Arity = ArgumentArity.ZeroOrOne };
        var vector = new Option<float[]?>("--vector")
        {
            Description = "Search by this raw vector instead of a text, as a JSON array (ANN only, no rerank).",
            HelpName = "JSON",
            CustomParser = r =>
            {
                try
                {
                    var parsed = System.Text.Json.JsonSerializer.Deserialize<float[]>(r.Tokens.Count > 0 ? r.Tokens[0].Value : "");
                    if (parsed is not { Length: > 0 })
                    {
                        r.AddError("--vector: expected a non-empty JSON array of numbers.");
                    }
                    return parsed;
                }
                catch (System.Text.Json.JsonException e)
                {
                    r.AddError("--vector: expected a JSON array of numbers: " + e.Message);
                    return null;
                }
            },
        };
        var like = new Option<string?>("--like") { Description = "Search for neighbours of this stored document (itself excluded; ANN only).", HelpName = "ID" };
        var k = new Option<int>("-k", "--top-k") { Description = "Hits to return (1..server max).", DefaultValueFactory = _ => 10 };
        var candidates = new Option<int?>("--candidates")
        {
            Description = $"ANN candidates passed to the reranker, >= k (default {DefaultCandidates}, or k when larger).",
            HelpName = "N",
        };
        var noRerank = new Option<bool>("--no-rerank") { Description = "ANN order only, no cross-encoder." };
        var filter = Validation.FilterOption("Metadata filter, e.g. '{\"field\":{\"key\":\"year\",\"range\":{\"gte\":2020}}}' " +
                "(field: equals | any_of | range | exists; and/or: [...]; not: {...}).");
        var instruction = new Option<string?>("--instruction") { Description = "Query instruction for this query (\"\" = none; default: the collection's).", HelpName = "TEXT" };
        var ef = new Option<int>("--ef") { Description = "HNSW beam width (0 = collection default)." };
        var vectors = new Option<bool>("--vectors") { Description = "Also return the hits' vectors (JSON output)." };

        k.Check(v => v < 1 ? "-k must be at least 1." : null);
        candidates.Check(v => v is < 1 ? "--candidates must be at least 1." : null);
        ef.Check(v => v < 0 ? "--ef must not be negative." : null);

        var command = new Command("search", "Text query: embed, ANN candidates, cross-encoder rerank, top-k.")
        {
            collection, query, k, candidates, noRerank, filter, instruction, ef, vectors, vector, like,
        };
        command.Validators.Add(r =>
        {
            if (r.ValueOrDefault(candidates) is { } c && c < r.ValueOrDefault(k))
            {
                r.AddError($"--candidates ({c}) must be at least -k ({r.ValueOrDefault(k)}).");
            }
            var modes = (r.GetResult(query) is { Tokens.Count: > 0 } ? 1 : 0) + (r.GetResult(vector) is null ? 0 : 1) + (r.GetResult(like) is null ? 0 : 1);
            if (modes != 1)
            {
                r.AddError("Give exactly one of QUERY, --vector JSON or --like ID.");
            }
            else if (r.GetResult(query) is null or { Tokens.Count: 0 }
                && (r.GetResult(noRerank) is not null || r.GetResult(instruction) is not null))
            {
                r.AddError("--no-rerank and --instruction apply to text queries only.");
            }
        });
        command.SetAction(g.Action(async (s, ct) =>
        {
            var topK = s.Get(k);
            var options = new SearchOptions
            {
                K = topK,
                Candidates = s.ParseResult.GetValue(candidates) ?? (topK > DefaultCandidates ? topK : 0),
                Ef = s.Get(ef),
                Fields = new ReturnFields { Text = true, Metadata = true, Vector = s.Get(vectors) },
            };
            if (s.ParseResult.GetValue(filter) is { } f)
            {
                options.Filter = f;
            }
            SearchResponse response;
            if (s.ParseResult.GetResult(vector) is not null && s.ParseResult.GetValue(vector) is { Length: > 0 } v)
            {
                var byVector = new SearchByVectorRequest { Collection = s.Get(collection), Options = options };
                byVector.Vector.AddRange(v);
                response = await s.Search.SearchByVectorAsync(byVector, cancellationToken: ct);
            }
            else if (s.ParseResult.GetResult(like) is not null && s.ParseResult.GetValue(like) is { } id)
            {
                response = await s.Search.SearchByDocumentAsync(
                    new SearchByDocumentRequest { Collection = s.Get(collection), Id = id, Options = options }, cancellationToken: ct);
            }
            else
            {
                response = await TextSearchAsync(s, options, ct);
            }
            if (s.Json)
            {
                s.WriteJson(response);
            }
            else
            {
                WriteHits(s.Out, response);
            }
            return CliApp.ExitOk;
        }));
        return command;

        async Task<SearchResponse> TextSearchAsync(CliSession s, SearchOptions options, CancellationToken ct)
        {
            var request = new SearchRequest { Collection = s.Get(collection), Query = s.Get(query) ?? "", Options = options };
            if (s.Get(noRerank))
            {
                request.Rerank = false;
            }
            if (s.ParseResult.GetResult(instruction) is { Implicit: false })
            {
                request.QueryInstruction = s.Get(instruction) ?? "";
            }
            return await s.Search.SearchAsync(request, cancellationToken: ct);
        }
    }

    /// <summary>Hits as a table, then one line of stage timings.</summary>
    internal static void WriteHits(TextWriter writer, SearchResponse response)
    {
        if (response.Hits.Count == 0)
        {
            writer.WriteLine("no hits");
        }
        else
        {
            Table.Write(writer, ["#", "ID", "RERANK", "ANN", "TEXT"], response.Hits.Select((h, i) => new[]
            {
                (i + 1).ToString(CultureInfo.InvariantCulture),
                h.Id,
                h.HasRerankScore ? h.RerankScore.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
                h.AnnScore.ToString("0.0000", CultureInfo.InvariantCulture),
                Table.Snippet(h.Text, SnippetLength),
            }));
        }
        writer.WriteLine(Timings(response));
    }

    /// <summary>"embed 3.1 ms | ann 0.4 ms | fetch 0.1 ms | rerank 41.0 ms | total 45.2 ms (index hnsw, reranked)".</summary>
    internal static string Timings(SearchResponse response)
    {
        var t = response.Timings ?? new StageTimings();
        static string Ms(ulong us) => (us / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " ms";
        var index = string.IsNullOrEmpty(response.IndexUsed) ? "" : $"index {response.IndexUsed}, ";
        return $"embed {Ms(t.EmbedUs)} | ann {Ms(t.AnnUs)} | fetch {Ms(t.FetchUs)} | rerank {Ms(t.RerankUs)} | " +
            $"total {Ms(t.TotalUs)} ({index}{(response.Reranked ? "reranked" : "not reranked")})";
    }
}
