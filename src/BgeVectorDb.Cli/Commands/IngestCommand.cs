using System.CommandLine;
using System.Text.Json;
using BgeVectorDb.Cli.Ingest;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb ingest COLLECTION (--jsonl FILE | --beir FOLDER) [--batch-size 64] [--window 4] [--limit N]</c>.</summary>
internal static class IngestCommand
{
    /// <summary>Batches sent and not yet acknowledged, by default.</summary>
    public const int DefaultWindow = 4;

    public static Command Create(CliGlobals g)
    {
        var collection = new Argument<string>("COLLECTION") { Description = "Target collection." };
        var jsonl = new Option<string?>("--jsonl") { Description = "JSONL file: {\"id\", \"text\", \"metadata\"?, \"vector\"?} per line.", HelpName = "FILE" };
        var beir = new Option<string?>("--beir") { Description = "BEIR folder (its corpus.jsonl: {\"_id\", \"title\", \"text\"} per line).", HelpName = "FOLDER" };
        var batchSize = new Option<int>("--batch-size") { Description = "Documents per batch.", DefaultValueFactory = _ => 64 };
        var window = new Option<int>("--window") { Description = "Batches in flight (sent, not yet acknowledged).", DefaultValueFactory = _ => DefaultWindow };
        var limit = new Option<long?>("--limit") { Description = "Ingest at most N documents (the first N lines).", HelpName = "N" };
        batchSize.Check(v => v is < 1 or > 10_000 ? "--batch-size must be between 1 and 10000." : null);
        window.Check(v => v is < 1 or > 64 ? "--window must be between 1 and 64." : null);
        limit.Check(v => v is < 1 ? "--limit must be at least 1." : null);

        var command = new Command("ingest", "Upload documents over a gRPC stream, with a progress bar on stderr.")
        {
            collection, jsonl, beir, batchSize, window, limit,
        };
        command.Validators.Add(r =>
        {
            var hasJsonl = r.GetResult(jsonl) is not null;
            var hasBeir = r.GetResult(beir) is not null;
            if (hasJsonl == hasBeir)
            {
                r.AddError("Give exactly one of --jsonl FILE or --beir FOLDER.");
            }
        });
        command.SetAction(g.Action(async (s, ct) =>
        {
            var format = s.Get(jsonl) is null ? SourceFormat.Beir : SourceFormat.Jsonl;
            var file = SourceDocuments.ResolvePath(format, s.Get(jsonl) ?? s.Get(beir)!);
            var max = s.Get(limit);
            var lines = SourceDocuments.CountLines(file);
            var total = max is { } m ? Math.Min(m, lines) : lines;
            IEnumerable<SourceDocument> documents = SourceDocuments.Read(format, file);
            if (max is { } n)
            {
                documents = documents.Take(checked((int)Math.Min(n, int.MaxValue)));
            }

            var progress = new ProgressReporter(s.Err, total, g.Host.StderrIsTerminal);
            var streamer = new UpsertStreamer(s.Documents, s.Get(collection), s.Get(batchSize), s.Get(window));
            IngestResult result;
            try
            {
                result = await streamer.RunAsync(documents, size => progress.Add(size), ct);
            }
            catch (IngestRejectedException e)
            {
                progress.Finish();
                await s.Err.WriteLineAsync(CliGlobals.DescribeRpcError(e.Status, s.Address));
                var where = e.Batch is { } b
                    ? $"the server rejected batch {b.BatchId} ({file}:{b.FirstLine}-{b.LastLine}); "
                    : "";
                await s.Err.WriteLineAsync($"{where}{e.Acknowledged} documents before it were stored");
                return CliApp.ExitError;
            }
            catch
            {
                progress.Finish();
                throw;
            }
            progress.Finish();
            var seconds = progress.ElapsedSeconds;
            if (s.Json)
            {
                s.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    documents = result.Documents,
                    replaced = result.Replaced,
                    batches = result.Batches,
                    seconds = Math.Round(seconds, 3),
                    docs_per_second = seconds > 0 ? Math.Round(result.Documents / seconds, 1) : 0,
                }));
            }
            else
            {
                s.Out.WriteLine(ProgressFormatter.Summary(result.Documents, seconds)
                    + (result.Replaced > 0 ? $", {result.Replaced} replaced" : ""));
            }
            return CliApp.ExitOk;
        }));
        return command;
    }
}
