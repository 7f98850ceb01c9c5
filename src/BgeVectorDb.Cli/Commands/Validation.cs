using System.CommandLine;
using BgeVectorDb.Cli.Json;
using BgeVectorDb.Protos.V1;

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

    /// <summary>A <c>--filter JSON</c> option parsed into a proto <see cref="Filter"/>; bad JSON is a parse error.</summary>
    public static Option<Filter?> FilterOption(string description) => new("--filter")
    {
        Description = description,
        HelpName = "JSON",
        CustomParser = r =>
        {
            try
            {
                return FilterJson.Parse(r.Tokens.Count > 0 ? r.Tokens[0].Value : "");
            }
            catch (JsonShapeException e)
            {
                r.AddError("--filter: " + e.Message);
                return null;
            }
        },
    };
}
