namespace BgeVectorDb.Architecture.Tests.Fixtures.Lower;

/// <summary>Uses <see cref="Upper.Widget"/> only in a lambda, which the compiler moves into a nested closure type:
/// the namespace walker must still report Lower -> Upper.</summary>
public static class Part
{
    public static Func<int> SizeLater(int extra) => () => new Upper.Widget().Size + extra;
}

/// <summary>A recursive constraint (T : IComparable&lt;T&gt;), on which a walker that follows constraints must not loop.</summary>
public sealed class Ranked<T> where T : IComparable<T>
{
    public static T Max(T a, T b) => a.CompareTo(b) >= 0 ? a : b;
}
