using System.CommandLine;

namespace BgeVectorDb.Cli.Commands;

/// <summary>Option checks that become parse errors (exit code 2).</summary>
internal static class Validation
{
    /// <summary>Adds a check of the option's value; <paramref name="check"/> returns an error message or null.
    /// Values that failed to convert are already reported by the parser and are not checked again.</summary>
    public static void Check<T>(this Option<T> option, Func<T, string?> check) => option.Validators.Add(result =>
    {
        T value;
        try
        {
            value = result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return;
        }
        if (check(value) is { } error)
        {
            result.AddError(error);
        }
    });

    /// <summary>The option's value in a command validator, or default when it did not convert.</summary>
    public static T? ValueOrDefault<T>(this System.CommandLine.Parsing.CommandResult result, Option<T> option)
    {
        try
        {
            return result.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }
}
