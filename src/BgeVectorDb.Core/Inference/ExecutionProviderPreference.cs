namespace BgeVectorDb.Core.Inference;

/// <summary>Which ONNX Runtime execution provider to ask for.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>CUDA when the runtime has it and it initialises, otherwise CPU (the reason is recorded).</summary>
    Auto = 0,

    /// <summary>CPU only.</summary>
    Cpu = 1,

    /// <summary>CUDA or fail: <see cref="ExecutionProviderUnavailableException"/> when it is not available.</summary>
    Cuda = 2,
}

/// <summary>Parses the configuration spelling of <see cref="ExecutionProviderPreference"/>.</summary>
public static class ExecutionProviderPreferences
{
    /// <summary>Parses "auto", "cpu" or "cuda" (case-insensitive, surrounding blanks ignored).</summary>
    /// <exception cref="ArgumentException">Any other value; the message lists the accepted ones.</exception>
    public static ExecutionProviderPreference Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (TryParse(value, out var preference))
        {
            return preference;
        }

        throw new ArgumentException(
            $"Unknown execution provider '{value}': expected one of auto, cpu, cuda.", nameof(value));
    }

    /// <summary>A bound value (the configuration binder also accepts numbers): returned when it is one of the three.</summary>
    /// <exception cref="ArgumentException">Any other value; the message lists the accepted ones.</exception>
    public static ExecutionProviderPreference Parse(ExecutionProviderPreference value) => Enum.IsDefined(value)
        ? value
        : throw new ArgumentException($"Unknown execution provider {(int)value}: expected one of auto, cpu, cuda.", nameof(value));

    /// <summary>Parses "auto", "cpu" or "cuda" (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? value, out ExecutionProviderPreference preference)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "auto":
                preference = ExecutionProviderPreference.Auto;
                return true;
            case "cpu":
                preference = ExecutionProviderPreference.Cpu;
                return true;
            case "cuda":
                preference = ExecutionProviderPreference.Cuda;
                return true;
            default:
                preference = default;
                return false;
        }
    }

    /// <summary>The configuration spelling: "auto", "cpu" or "cuda".</summary>
    public static string ToConfigString(this ExecutionProviderPreference preference) => preference switch
    {
        ExecutionProviderPreference.Auto => "auto",
        ExecutionProviderPreference.Cpu => "cpu",
        ExecutionProviderPreference.Cuda => "cuda",
        _ => throw new ArgumentOutOfRangeException(nameof(preference), preference, null),
    };
}
