using System.CommandLine;
using System.Globalization;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb embed "text" ["text" ...] [--collection C | --model M] [--document] [--instruction TEXT]</c>
/// (Search.Embed): one vector per text, as the server computes it.</summary>
internal static class EmbedCommand
{
    /// <summary>Values shown per vector in the text output (JSON output has them all).</summary>
    public const int PreviewValues = 6;

    public static Command Create(CliGlobals g)
    {
        var texts = new Argument<string[]>("TEXT") { Description = "Texts to embed.", Arity = ArgumentArity.OneOrMore };
        var collection = new Option<string?>("--collection") { Description = "Use this collection's model, query instruction and normalisation.", HelpName = "NAME" };
        var model = new Option<string?>("--model") { Description = "Use this embedding model (default: the server's default model).", HelpName = "ID" };
        var document = new Option<bool>("--document") { Description = "Embed as documents (document prompt) instead of queries (query instruction)." };
        var instruction = new Option<string?>("--instruction") { Description = "Query instruction (\"\" = none; default: the collection's, else the model's).", HelpName = "TEXT" };
        var command = new Command("embed", "Embed texts with the server's model and print the vectors (JSON with --json).")
        {
            texts, collection, model, document, instruction,
        };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var request = new EmbedRequest
            {
                Kind = s.Get(document) ? EmbedKind.Document : EmbedKind.Query,
                Collection = s.Get(collection) ?? "",
                Model = s.Get(model) ?? "",
            };
            request.Texts.AddRange(s.Get(texts));
            if (s.ParseResult.GetResult(instruction) is { Implicit: false }) request.QueryInstruction = s.Get(instruction) ?? "";
            var response = await s.Search.EmbedAsync(request, cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(response);
                return CliApp.ExitOk;
            }
            s.Out.WriteLine($"model {response.Model}, dimension {response.Dimension}, prompt {(response.Prompt.Length == 0 ? "(none)" : "\"" + response.Prompt + "\"")}");
            for (int i = 0; i < response.Embeddings.Count; i++)
            {
                var v = response.Embeddings[i].Values;
                var norm = Math.Sqrt(v.Sum(x => (double)x * x));
                var preview = string.Join(", ", v.Take(PreviewValues).Select(x => x.ToString("0.0000", CultureInfo.InvariantCulture)));
                s.Out.WriteLine($"[{i}] norm {norm.ToString("0.0000", CultureInfo.InvariantCulture)}  [{preview}{(v.Count > PreviewValues ? ", …" : "")}]");
            }
            return CliApp.ExitOk;
        }));
        return command;
    }
}
