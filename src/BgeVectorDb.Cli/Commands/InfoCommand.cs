using System.CommandLine;
using System.Globalization;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb info</c>: server version, execution provider (and why) and loaded models.</summary>
internal static class InfoCommand
{
    public static Command Create(CliGlobals g)
    {
        var command = new Command("info", "Show the server version, execution provider and models.");
        command.SetAction(g.Action(async (s, ct) =>
        {
            var info = await s.Admin.GetInfoAsync(new GetInfoRequest(), cancellationToken: ct);
            if (s.Json)
            {
                s.WriteJson(info);
                return CliApp.ExitOk;
            }
            Table.WriteFields(s.Out,
            [
                ("server", s.Address),
                ("version", info.Version),
                ("provider", string.IsNullOrEmpty(info.ExecutionProviderReason)
                    ? info.ExecutionProvider
                    : $"{info.ExecutionProvider} ({info.ExecutionProviderReason})"),
                ("available", string.Join(", ", info.AvailableProviders)),
                ("uptime", Ingest.ProgressFormatter.Duration(info.UptimeSeconds)),
            ]);
            s.Out.WriteLine();
            if (info.Models.Count == 0)
            {
                s.Out.WriteLine("no models loaded");
                return CliApp.ExitOk;
            }
            Table.Write(s.Out, ["ROLE", "ID", "FAMILY", "DIM", "MAX_LEN", "POOLING", "QUERY_PROMPT", "SYNTHETIC", "PATH"], info.Models.Select(m => new[]
            {
                m.Role, m.Id, m.Family,
                m.Dimension == 0 ? "-" : m.Dimension.ToString(CultureInfo.InvariantCulture),
                m.MaxLength.ToString(CultureInfo.InvariantCulture),
                m.Pooling.Length == 0 ? "-" : m.Pooling + (m.Normalized ? "+norm" : ""),
                m.Role != "embedding" ? "-" : m.QueryPrompt.Length == 0 ? "(none)" : "\"" + m.QueryPrompt + "\"",
                m.Synthetic ? "yes" : "no",
                m.Path,
            }));
            return CliApp.ExitOk;
        }));
        return command;
    }
}
