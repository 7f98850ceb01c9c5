using BgeVectorDb.Cli;

return await CliApp.RunAsync(args, Console.Out, Console.Error, CliHost.ForConsole()).ConfigureAwait(false);
