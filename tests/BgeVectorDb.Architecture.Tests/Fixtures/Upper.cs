namespace BgeVectorDb.Architecture.Tests.Fixtures.Upper;

/// <summary>Used by <see cref="Lower.Part"/> only inside a method body: the walker's self-check.</summary>
public sealed class Widget
{
    public int Size => 3;
}
