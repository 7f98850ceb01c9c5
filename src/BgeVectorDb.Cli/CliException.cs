namespace BgeVectorDb.Cli;

/// <summary>A user or input error: its message goes to stderr as is and the exit code is 1.</summary>
internal class CliException(string message) : Exception(message);
