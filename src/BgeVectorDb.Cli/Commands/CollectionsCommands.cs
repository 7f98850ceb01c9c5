using System.CommandLine;
using System.Globalization;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb collections create|list|get|delete|stats</c>.</summary>
internal static class CollectionsCommands
{
    public static Command Create(CliGlobals g)
    {
        var command = new Command("collections", "Create, list, inspect and delete collections.");
        command.Subcommands.Add(CreateCommand(g));
        command.Subcommands.Add(ListCommand(g));
        command.Subcommands.Add(NamedCommand(g, "get", "Show a collection's configuration.", async (s, name, ct) =>
        {
            var info = await s.Collections.GetCollectionAsync(new GetCollectionRequest { Name = name }, cancellationToken: ct);
            WriteInfo(s, info);
        }));
        command.Subcommands.Add(NamedCommand(g, "delete", "Delete a collection and all its documents.", async (s, name, ct) =>
        {
            var response = await s.Collections.DeleteCollectionAsync(new DeleteCollectionRequest { Name = name }, cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(response);
            }
            else
            {
                s.Out.WriteLine(response.Deleted ? $"deleted collection '{name}'" : $"collection '{name}' was not deleted");
            }
        }));
        command.Subcommands.Add(NamedCommand(g, "stats", "Show document counts, index, memory, disk and WAL positions.", async (s, name, ct) =>
        {
            var stats = await s.Collections.GetCollectionStatsAsync(new GetCollectionStatsRequest { Name = name }, cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(stats);
                return;
            }
            Table.WriteFields(s.Out,
            [
                ("name", stats.Name),
                ("documents", N(stats.DocumentCount)),
                ("deleted", N(stats.DeletedCount)),
                ("dimension", N(stats.Dimension)),
                ("index", stats.IndexKind),
                ("memory", Table.Bytes(stats.MemoryBytes)),
                ("disk", Table.Bytes(stats.DiskBytes)),
                ("checkpoint wal", N(stats.CheckpointWalPosition)),
                ("wal tail", N(stats.WalTailPosition)),
            ]);
        }));
        return command;
    }

    private static Command CreateCommand(CliGlobals g)
    {
        var name = new Argument<string>("NAME") { Description = "Collection name: 1..64 of [A-Za-z0-9_-], starting with a letter or digit." };
        var model = new Option<string?>("--model") { Description = "Embedding model id (default: the server's); \"none\" = vectors only.", HelpName = "ID" };
        var dimension = new Option<uint>("--dimension") { Description = "Vector dimension (default: the model's; required with --model none).", HelpName = "N" };
        var distance = new Option<string>("--distance") { Description = "Vector distance.", DefaultValueFactory = _ => "cosine" };
        distance.AcceptOnlyFromAmong("cosine", "dot", "l2");
        var m = new Option<uint>("--m") { Description = "HNSW links per node.", DefaultValueFactory = _ => 16 };
        var efConstruction = new Option<uint>("--ef-construction") { Description = "HNSW build beam width.", DefaultValueFactory = _ => 200 };
        var efSearch = new Option<uint>("--ef-search") { Description = "Default HNSW search beam width (0 = server default 100)." };
        var reranker = new Option<string?>("--reranker") { Description = "Cross-encoder id (default: the server's); \"none\" = no reranking.", HelpName = "ID|none" };
        var instruction = new Option<string?>("--instruction") { Description = "Query instruction (default: the model family's preset; \"\" = none).", HelpName = "TEXT" };
        Positive(m);
        Positive(efConstruction);

        var command = new Command("create", "Create a collection.") { name, model, dimension, distance, m, efConstruction, efSearch, reranker, instruction };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var config = new CollectionConfig
            {
                EmbeddingModel = s.Get(model) ?? "",
                Dimension = s.Get(dimension),
                Distance = s.Get(distance) switch
                {
                    "dot" => Distance.Dot,
                    "l2" => Distance.L2,
                    _ => Distance.Cosine,
                },
                Hnsw = new HnswConfig { M = s.Get(m), EfConstruction = s.Get(efConstruction), EfSearch = s.Get(efSearch) },
                RerankerModel = s.Get(reranker) ?? "",
            };
            if (s.ParseResult.GetResult(instruction) is { Implicit: false })
            {
                config.QueryInstruction = s.Get(instruction) ?? "";
            }
            var info = await s.Collections.CreateCollectionAsync(
                new CreateCollectionRequest { Name = s.Get(name), Config = config }, cancellationToken: ct);
            if (!s.Json)
            {
                s.Out.WriteLine($"created collection '{info.Name}'");
            }
            WriteInfo(s, info);
            return CliApp.ExitOk;
        }));
        return command;
    }

    private static Command ListCommand(CliGlobals g)
    {
        var command = new Command("list", "List collections.");
        command.SetAction(g.Action(async (s, ct) =>
        {
            var response = await s.Collections.ListCollectionsAsync(new ListCollectionsRequest(), cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(response);
                return CliApp.ExitOk;
            }
            if (response.Collections.Count == 0)
            {
                s.Out.WriteLine("no collections");
                return CliApp.ExitOk;
            }
            Table.Write(s.Out, ["NAME", "DOCS", "MODEL", "DIM", "DISTANCE", "RERANKER"],
                response.Collections.OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => new[]
                {
                    c.Name, N(c.DocumentCount), c.Config?.EmbeddingModel ?? "", N(c.Config?.Dimension ?? 0),
                    DistanceName(c.Config?.Distance ?? Distance.Unspecified), c.Config?.RerankerModel ?? "",
                }));
            return CliApp.ExitOk;
        }));
        return command;
    }

    private static Command NamedCommand(CliGlobals g, string verb, string description, Func<CliSession, string, CancellationToken, Task> body)
    {
        var name = new Argument<string>("NAME") { Description = "Collection name." };
        var command = new Command(verb, description) { name };
        command.SetAction(g.Action(async (s, ct) =>
        {
            await body(s, s.Get(name), ct);
            return CliApp.ExitOk;
        }));
        return command;
    }

    private static void WriteInfo(CliSession s, CollectionInfo info)
    {
        if (s.Json)
        {
            s.WriteJson(info);
            return;
        }
        var c = info.Config ?? new CollectionConfig();
        var hnsw = c.Hnsw ?? new HnswConfig();
        Table.WriteFields(s.Out,
        [
            ("name", info.Name),
            ("documents", N(info.DocumentCount)),
            ("model", c.EmbeddingModel),
            ("dimension", N(c.Dimension)),
            ("distance", DistanceName(c.Distance)),
            ("hnsw", $"m={hnsw.M} ef_construction={hnsw.EfConstruction} ef_search={hnsw.EfSearch}"),
            ("reranker", c.RerankerModel),
            ("instruction", c.HasQueryInstruction ? Quote(c.QueryInstruction) : "(model family preset)"),
            ("created", info.CreatedAtMs > 0
                ? DateTimeOffset.FromUnixTimeMilliseconds(info.CreatedAtMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
                : ""),
        ]);
    }

    private static void Positive(Option<uint> option) => option.Check(v => v == 0 ? $"{option.Name} must be at least 1." : null);

    internal static string DistanceName(Distance d) => d switch
    {
        Distance.Cosine => "cosine",
        Distance.Dot => "dot",
        Distance.L2 => "l2",
        _ => "(server default)",
    };

    private static string Quote(string s) => "\"" + s + "\"";

    private static string N(ulong n) => n.ToString(CultureInfo.InvariantCulture);
}
