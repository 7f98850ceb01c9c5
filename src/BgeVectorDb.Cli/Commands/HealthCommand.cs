using System.CommandLine;
using Grpc.Health.V1;

namespace BgeVectorDb.Cli.Commands;

/// <summary><c>bgevdb health</c>: asks grpc.health.v1 whether the server is serving (exit 0) or not
/// (exit 1). Used as the docker health check.</summary>
internal static class HealthCommand
{
    public static Command Create(CliGlobals g)
    {
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 3 };
        var command = new Command("health", "Check grpc.health.v1: exit 0 when the server is SERVING, 1 otherwise.") { timeout };
        command.SetAction(g.Action(async (s, ct) =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(s.Get(timeout));
            var response = await new Health.HealthClient(s.Invoker).CheckAsync(new HealthCheckRequest(), deadline: deadline, cancellationToken: ct);
            s.Out.WriteLine(response.Status.ToString().ToUpperInvariant());
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving ? CliApp.ExitOk : CliApp.ExitError;
        }));
        return command;
    }
}
