using System.CommandLine;
using System.Globalization;
using BgeVectorDb.Cli.Json;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb get COLLECTION ID...</c> and <c>bgevdb delete COLLECTION ID...</c>.</summary>
internal static class DocumentsCommands
{
    /// <summary>Fetches documents by id; exit code 1 when any id is missing (listed on stderr).</summary>
    public static Command CreateGet(CliGlobals g)
    {
        var collection = new Argument<string>("COLLECTION") { Description = "Collection." };
        var ids = new Argument<string[]>("ID") { Description = "Document ids.", Arity = ArgumentArity.OneOrMore };
        var vectors = new Option<bool>("--vectors") { Description = "Also return the stored vectors." };
        var command = new Command("get", "Show documents by id.") { collection, ids, vectors };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var request = new GetDocumentsRequest
            {
                Collection = s.Get(collection),
                Fields = new ReturnFields { Text = true, Metadata = true, Vector = s.Get(vectors) },
            };
            request.Ids.AddRange(s.Get(ids));
            var response = await s.Documents.GetDocumentsAsync(request, cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(response);
            }
            else
            {
                var first = true;
                foreach (var doc in response.Documents)
                {
                    if (!first)
                    {
                        s.Out.WriteLine();
                    }
                    first = false;
                    var fields = new List<(string, string)> { ("id", doc.Id), ("text", doc.Text), ("metadata", ValueJson.ToJson(doc.Metadata)) };
                    if (doc.Vector.Count > 0)
                    {
                        fields.Add(("vector", $"[{string.Join(", ", doc.Vector.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]"));
                    }
                    Table.WriteFields(s.Out, fields);
                }
            }
            if (response.MissingIds.Count > 0)
            {
                s.Err.WriteLine($"NOT_FOUND: no document with id {string.Join(", ", response.MissingIds.Select(id => $"'{id}'"))} in '{request.Collection}'");
                return CliApp.ExitError;
            }
            return CliApp.ExitOk;
        }));
        return command;
    }

    /// <summary>Deletes documents by id; ids that do not exist are not an error.</summary>
    public static Command CreateDelete(CliGlobals g)
    {
        var collection = new Argument<string>("COLLECTION") { Description = "Collection." };
        var ids = new Argument<string[]>("ID") { Description = "Document ids.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("delete", "Delete documents by id.") { collection, ids };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var request = new DeleteDocumentsRequest { Collection = s.Get(collection) };
            request.Ids.AddRange(s.Get(ids));
            var response = await s.Documents.DeleteDocumentsAsync(request, cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(response);
            }
            else
            {
                s.Out.WriteLine($"deleted {response.Deleted} of {request.Ids.Count} document(s)");
            }
            return CliApp.ExitOk;
        }));
        return command;
    }
}
