using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BgeVectorDb.Cli.Ingest;
using BgeVectorDb.Cli.Json;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Common.Mining;
using BgeVectorDb.Protos.V1;
using Grpc.Core;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb mine COLLECTION (--jsonl FILE | --beir FOLDER [--split train]) -o OUT [--range 2-200]
/// [--negatives 15] [--seed N] [--filter JSON] [--instruction TEXT] [--false-negative-ratio R] [--with-scores]
/// [--keep-near-duplicates] [--near-duplicate-threshold J] [--chunk 256] [--limit N]</c>: hard-negative mining
/// over Mining.MineHardNegatives, written as FlagEmbedding JSONL (one line per query, input order).</summary>
internal static class MineCommand
{
    /// <summary>Queries per call, by default.</summary>
    public const int DefaultChunk = 256;

    public static Command Create(CliGlobals g)
    {
        var collection = new Argument<string>("COLLECTION") { Description = "Collection to mine against." };
        var jsonl = new Option<string?>("--jsonl") { Description = "FlagEmbedding JSONL: {\"query\": str, \"pos\": [str], ...} per line (other fields are kept).", HelpName = "FILE" };
        var beir = new Option<string?>("--beir") { Description = "BEIR folder: queries.jsonl and qrels/SPLIT.tsv; corpus ids must be document ids in the collection.", HelpName = "FOLDER" };
        var split = new Option<string>("--split") { Description = "BEIR qrels split.", DefaultValueFactory = _ => "train", HelpName = "NAME" };
        var output = new Option<string>("-o", "--output") { Description = "Output JSONL file (written whole, then renamed into place).", Required = true, HelpName = "FILE" };
        var range = new Option<(int Start, int End)>("--range")
        {
            Description = "Slice of the ranked hits to sample from, FlagEmbedding's range_for_sampling: 2-200 = hits[2:200], ranks 3..200.",
            HelpName = "START-END",
            DefaultValueFactory = _ => (MiningDefaults.RangeStart, MiningDefaults.RangeEnd),
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                var parts = text.Split('-');
                if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
                    && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b > a)
                {
                    return (a, b);
                }
                r.AddError($"--range: expected START-END with START < END, e.g. 2-200, got '{text}'.");
                return default;
            },
        };
        var negatives = new Option<int>("-n", "--negatives") { Description = "Negatives per query (negative_number).", DefaultValueFactory = _ => MiningDefaults.NegativeNumber };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed: same seed and input, byte-identical output." };
        var filter = Validation.FilterOption("Metadata filter on candidates (same JSON as search --filter).");
        var instruction = new Option<string?>("--instruction") { Description = "Query instruction (\"\" = none; default: the collection's).", HelpName = "TEXT" };
        var ratio = new Option<float?>("--false-negative-ratio")
        {
            Description = "Cross-encoder false-negative filter: drop candidates above this fraction of the lowest positive's relevance, in (0, 1].",
            HelpName = "R",
        };
        var withScores = new Option<bool>("--with-scores") { Description = "Add pos_scores/neg_scores from the cross-encoder." };
        var keepNear = new Option<bool>("--keep-near-duplicates") { Description = "Keep candidates that nearly duplicate a positive (equal ones are always dropped)." };
        var nearThreshold = new Option<float?>("--near-duplicate-threshold") { Description = "Jaccard similarity of word 3-shingles from which a candidate is a near duplicate (default 0.9).", HelpName = "J" };
        var chunk = new Option<int>("--chunk") { Description = "Queries per call (output does not depend on it).", DefaultValueFactory = _ => DefaultChunk };
        var limit = new Option<int?>("--limit") { Description = "Mine at most the first N queries.", HelpName = "N" };
        negatives.Check(v => v is < 1 or > MiningDefaults.MaxNegativeNumber ? $"--negatives must be between 1 and {MiningDefaults.MaxNegativeNumber}." : null);
        ratio.Check(v => v is { } r && r is not (> 0 and <= 1) ? "--false-negative-ratio must be in (0, 1]." : null);
        nearThreshold.Check(v => v is { } t && t is not (> 0 and <= 1) ? "--near-duplicate-threshold must be in (0, 1]." : null);
        chunk.Check(v => v is < 1 or > 10_000 ? "--chunk must be between 1 and 10000." : null);
        limit.Check(v => v is < 1 ? "--limit must be at least 1." : null);

        var command = new Command("mine", "Mine hard negatives against a collection into a FlagEmbedding JSONL file, with a progress bar on stderr.")
        {
            collection, jsonl, beir, split, output, range, negatives, seed, filter, instruction, ratio, withScores, keepNear, nearThreshold, chunk, limit,
        };
        command.Validators.Add(r =>
        {
            if ((r.GetResult(jsonl) is not null) == (r.GetResult(beir) is not null))
            {
                r.AddError("Give exactly one of --jsonl FILE or --beir FOLDER.");
            }
        });
        command.SetAction(g.Action(async (s, ct) =>
        {
            IReadOnlyList<MiningExample>? beirExamples = null;
            IEnumerable<MiningExample> examples;
            long total;
            try
            {
                if (s.Get(jsonl) is { } file)
                {
                    if (!File.Exists(file)) throw new CliException($"{file}: file not found");
                    total = File.ReadLines(file).LongCount(l => !string.IsNullOrWhiteSpace(l));
                    examples = FlagEmbeddingJsonl.ReadFile(file);
                }
                else
                {
                    beirExamples = BeirMiningInput.Read(s.Get(beir)!, s.Get(split));
                    total = beirExamples.Count;
                    examples = beirExamples;
                }
            }
            catch (EngineException e)
            {
                throw new CliException(e.Message);
            }
            if (s.Get(limit) is { } n)
            {
                examples = examples.Take(n);
                total = Math.Min(total, n);
            }

            var (start, end) = s.Get(range);
            var template = new MineRequest
            {
                Collection = s.Get(collection),
                RangeStart = (uint)start,
                RangeEnd = (uint)end,
                NegativeNumber = (uint)s.Get(negatives),
                Seed = s.Get(seed),
                WithScores = s.Get(withScores),
                KeepNearDuplicates = s.Get(keepNear),
            };
            if (s.ParseResult.GetValue(filter) is { } f) template.Filter = f;
            if (s.ParseResult.GetResult(instruction) is { Implicit: false }) template.QueryInstruction = s.Get(instruction) ?? "";
            if (s.ParseResult.GetValue(ratio) is { } r) template.FalseNegativeRatio = r;
            if (s.ParseResult.GetValue(nearThreshold) is { } t) template.NearDuplicateThreshold = t;

            var outputPath = Path.GetFullPath(s.Get(output));
            var temp = outputPath + ".partial";
            var client = new Mining.MiningClient(s.Invoker);
            var progress = new ProgressReporter(s.Err, total, g.Host.StderrIsTerminal, "queries");
            long mined = 0, shortLines = 0;
            try
            {
                await using (var writer = new StreamWriter(temp, append: false, new UTF8Encoding(false)))
                {
                    IEnumerator<MiningExample> source;
                    try
                    {
                        source = examples.GetEnumerator();
                    }
                    catch (EngineException e)
                    {
                        throw new CliException(e.Message);
                    }
                    using (source)
                    {
                        while (true)
                        {
                            var request = template.Clone();
                            try
                            {
                                while (request.Queries.Count < s.Get(chunk) && source.MoveNext())
                                {
                                    if (request.Queries.Count == 0) request.FirstIndex = (ulong)source.Current.Index;
                                    request.Queries.Add(ToProto(source.Current));
                                }
                            }
                            catch (EngineException e)
                            {
                                throw new CliException(e.Message);
                            }
                            if (request.Queries.Count == 0) break;
                            using var call = client.MineHardNegatives(request, cancellationToken: ct);
                            await foreach (var example in call.ResponseStream.ReadAllAsync(ct))
                            {
                                await writer.WriteAsync(example.Jsonl.AsMemory(), ct);
                                await writer.WriteAsync("\n".AsMemory(), ct);
                                mined++;
                                if (example.Shortfall.Length > 0) shortLines++;
                                progress.Add(1);
                            }
                        }
                    }
                }
                File.Move(temp, outputPath, overwrite: true);
            }
            catch
            {
                progress.Finish();
                TryDelete(temp);
                throw;
            }
            progress.Finish();
            var seconds = progress.ElapsedSeconds;
            if (s.Json)
            {
                s.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    queries = mined,
                    short_lines = shortLines,
                    output = outputPath,
                    seconds = Math.Round(seconds, 3),
                    queries_per_second = seconds > 0 ? Math.Round(mined / seconds, 1) : 0,
                }));
            }
            else
            {
                s.Out.WriteLine($"mined {mined} queries in {seconds.ToString("0.00", CultureInfo.InvariantCulture)} s " +
                    $"({ProgressFormatter.Rate(mined, seconds, "queries")}): {mined - shortLines} with {s.Get(negatives)} negatives, " +
                    $"{shortLines} short (reason in \"bgevdb\".\"shortfall\"); wrote {outputPath}");
            }
            return CliApp.ExitOk;
        }));
        return command;
    }

    private static MiningQuery ToProto(MiningExample example)
    {
        var q = new MiningQuery { Query = example.Query, ExtraJson = FlagEmbeddingJsonl.ExtraJson(example.Extra), QueryId = example.QueryId ?? "" };
        q.Pos.AddRange(example.Pos);
        if (example.PosIds is { } ids) q.PosIds.AddRange(ids);
        return q;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
