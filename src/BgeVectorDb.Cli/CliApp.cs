using System.CommandLine;
using System.CommandLine.Invocation;
using BgeVectorDb.Cli.Commands;

namespace BgeVectorDb.Cli;

/// <summary>How the CLI runs: as the <c>bgevdb</c> process on a console, or in-process (tests).</summary>
/// <param name="StderrIsTerminal">Redraw the progress bar in place with '\r' (else plain lines).</param>
/// <param name="HandleProcessTermination">Cancel the running command on Ctrl+C / SIGTERM.</param>
public sealed record CliHost(bool StderrIsTerminal, bool HandleProcessTermination)
{
    /// <summary>In-process use: plain progress lines, no signal handling.</summary>
    public static CliHost InProcess { get; } = new(false, false);

    /// <summary>The real console: a terminal when stderr is not redirected and env CI is not "true".</summary>
    public static CliHost ForConsole() => new(
        !Console.IsErrorRedirected && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
        HandleProcessTermination: true);
}

/// <summary>
/// Entry point of <c>bgevdb</c>, callable in-process. Exit codes: <see cref="ExitOk"/> 0,
/// <see cref="ExitError"/> 1 (server or user error, message on stderr, e.g.
/// "NOT_FOUND: collection 'x' does not exist"), <see cref="ExitUsage"/> 2 (bad command line).
/// </summary>
public static class CliApp
{
    /// <summary>Success.</summary>
    public const int ExitOk = 0;

    /// <summary>Server or user error (message on stderr).</summary>
    public const int ExitError = 1;

    /// <summary>Command-line usage error.</summary>
    public const int ExitUsage = 2;

    /// <summary>Runs the CLI with the given arguments, writing to the given writers (no console use).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr) =>
        RunAsync(args, stdout, stderr, CliHost.InProcess);

    /// <summary>Runs the CLI with the given arguments and host behaviour.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CliHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(host);

        var globals = new CliGlobals(stdout, stderr, host);
        var root = BuildRootCommand(globals);
        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync(error.Message).ConfigureAwait(false);
            }
            await stderr.WriteLineAsync($"Run '{CommandPath(parsed)} --help' for usage.").ConfigureAwait(false);
            await stderr.FlushAsync(cancellationToken).ConfigureAwait(false);
            return ExitUsage;
        }

        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
        };
        if (!host.HandleProcessTermination)
        {
            configuration.ProcessTerminationTimeout = null;
        }
        var exit = await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
        await stderr.FlushAsync(cancellationToken).ConfigureAwait(false);
        return exit;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command is RootCommand ? "bgevdb" : result.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The command tree.</summary>
    internal static RootCommand BuildRootCommand(CliGlobals globals)
    {
        var root = new RootCommand("bgevdb: command-line client of the BgeVectorDb server (gRPC).");
        root.Options.Add(globals.Server);
        root.Options.Add(globals.ApiKey);
        root.Options.Add(globals.Json);
        root.Subcommands.Add(CollectionsCommands.Create(globals));
        root.Subcommands.Add(IngestCommand.Create(globals));
        root.Subcommands.Add(SearchCommand.Create(globals));
        root.Subcommands.Add(EmbedCommand.Create(globals));
        root.Subcommands.Add(MineCommand.Create(globals));
        root.Subcommands.Add(DocumentsCommands.CreateGet(globals));
        root.Subcommands.Add(DocumentsCommands.CreateDelete(globals));
        root.Subcommands.Add(InfoCommand.Create(globals));
        root.Subcommands.Add(HealthCommand.Create(globals));
        root.Subcommands.Add(ModelsCommands.Create(globals));
        root.Subcommands.Add(SnapshotCommands.Create(globals));
        return root;
    }
}
