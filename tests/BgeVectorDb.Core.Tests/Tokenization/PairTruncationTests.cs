using BgeVectorDb.Core.Inference.Tokenization;

namespace BgeVectorDb.Core.Tests.Tokenization;

public sealed class PairTruncationTests
{
    [Theory]
    [InlineData(3, 4, 10, 3, 4)]      // fits
    [InlineData(3, 100, 10, 3, 7)]    // document cut first
    [InlineData(20, 100, 10, 9, 1)]   // query too long: cut, one document token kept
    [InlineData(20, 0, 10, 10, 0)]    // no document: the query takes the whole budget
    [InlineData(5, 5, 1, 1, 0)]       // budget 1: nothing to spare for the document
    [InlineData(5, 5, 0, 0, 0)]
    [InlineData(0, 50, 10, 0, 10)]
    public void Pair(int first, int second, int budget, int expectedFirst, int expectedSecond) =>
        Assert.Equal((expectedFirst, expectedSecond), PairTruncation.Pair(first, second, budget));

    [Theory]
    [InlineData(10, 5, 5)]
    [InlineData(3, 5, 3)]
    [InlineData(3, -1, 0)]
    public void Single(int length, int budget, int expected) => Assert.Equal(expected, PairTruncation.Single(length, budget));
}
