using System.CommandLine;
using System.Globalization;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb snapshot create|restore</c>: snapshot folders live on the server's file system.</summary>
internal static class SnapshotCommands
{
    public static Command Create(CliGlobals g)
    {
        var command = new Command("snapshot", "Create a consistent snapshot of a collection, or restore one (paths are on the server).");
        command.Subcommands.Add(CreateCommand(g));
        command.Subcommands.Add(RestoreCommand(g));
        return command;
    }

    private static Command CreateCommand(CliGlobals g)
    {
        var name = new Argument<string>("COLLECTION") { Description = "Collection to snapshot (writes may continue meanwhile)." };
        var command = new Command("create", "Checkpoint a collection and copy it into a self-describing snapshot folder on the server.") { name };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var response = await s.Admin.CreateSnapshotAsync(new CreateSnapshotRequest { Collection = s.Get(name) }, cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(response);
                return CliApp.ExitOk;
            }
            Table.WriteFields(s.Out,
            [
                ("path", response.Path),
                ("documents", response.Documents.ToString("N0", CultureInfo.InvariantCulture)),
                ("wal position", response.WalPosition.ToString(CultureInfo.InvariantCulture)),
                ("checkpoint", response.CheckpointSequence.ToString(CultureInfo.InvariantCulture)),
            ]);
            return CliApp.ExitOk;
        }));
        return command;
    }

    private static Command RestoreCommand(CliGlobals g)
    {
        var path = new Argument<string>("PATH") { Description = "Snapshot folder, as the restoring server sees it." };
        var name = new Option<string?>("--name") { Description = "Name of the restored collection (default: the snapshot's).", HelpName = "NAME" };
        var command = new Command("restore", "Restore a snapshot folder as a new collection.") { path, name };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var response = await s.Admin.RestoreSnapshotAsync(new RestoreSnapshotRequest { Path = s.Get(path), Collection = s.Get(name) ?? "" }, cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(response);
            }
            else
            {
                s.Out.WriteLine($"restored collection '{response.Collection}' ({response.Documents.ToString("N0", CultureInfo.InvariantCulture)} documents)");
            }
            return CliApp.ExitOk;
        }));
        return command;
    }
}
