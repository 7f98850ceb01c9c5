using System.ComponentModel.DataAnnotations;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Options;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Server.Hosting;

/// <summary>Section "Limits" at start: the engine's own rules (<see cref="EngineLimits.Problems"/>), each naming its key.</summary>
internal sealed class EngineLimitsValidator : IValidateOptions<EngineLimits>
{
    public ValidateOptionsResult Validate(string? name, EngineLimits options) =>
        options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}

/// <summary>Section "Storage" at start (<see cref="StorageOptions.Problems"/>), each problem naming its key.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options) =>
        options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}

/// <summary>The data-annotation rules of a section (as ValidateDataAnnotations), each failure prefixed with the key an operator
/// sets ("Inference:MaxBatchRows: The field MaxBatchRows must be between 1 and 65536.").</summary>
internal sealed class SectionAnnotationsValidator<TOptions>(string section) : IValidateOptions<TOptions> where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)) return ValidateOptionsResult.Success;
        return ValidateOptionsResult.Fail(results.Select(r =>
            $"{string.Join(", ", r.MemberNames.Select(m => section + ":" + m).DefaultIfEmpty(section))}: {r.ErrorMessage}"));
    }
}

/// <summary>Checks of raw configuration values that binding alone would get wrong or report without the allowed values.</summary>
internal static class ConfigurationChecks
{
    internal const string ExecutionProviderKey = InferenceOptions.Section + ":" + nameof(InferenceOptions.ExecutionProvider);

    /// <summary>Inference:ExecutionProvider binds to an enum; the binder would also take numbers ("1") and flag lists
    /// ("cpu, cuda") and report other values without the allowed ones. Null when the value is absent or valid.</summary>
    internal static string? ExecutionProvider(IConfiguration configuration)
    {
        var raw = configuration[ExecutionProviderKey];
        if (raw is null || ExecutionProviderPreferences.TryParse(raw, out _)) return null;
        return $"{ExecutionProviderKey} must be auto, cpu or cuda (case-insensitive), got '{raw}'";
    }

    /// <summary>A value the configuration binder cannot convert (e.g. Limits:MaxK=ten): its message names the key.</summary>
    internal static bool IsBindingFailure(Exception ex) =>
        ex is InvalidOperationException && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal);
}
