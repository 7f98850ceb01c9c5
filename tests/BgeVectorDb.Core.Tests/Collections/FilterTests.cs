using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;

namespace BgeVectorDb.Core.Tests.Collections;

public class FilterTests
{
    private static readonly Dictionary<string, MetadataValue> Doc = new()
    {
        ["year"] = MetadataValue.Of(2020L),
        ["score"] = MetadataValue.Of(0.5),
        ["lang"] = MetadataValue.Of("en"),
        ["tags"] = MetadataValue.Of(["bio", "med"]),
        ["open"] = MetadataValue.Of(true),
    };

    [Theory]
    [InlineData("year", 2020L, true)]
    [InlineData("year", 2021L, false)]
    [InlineData("missing", 2020L, false)]
    public void Equality_on_ints(string key, long value, bool expected) =>
        Assert.Equal(expected, new EqualsFilter(key, MetadataValue.Of(value)).Matches(Doc));

    [Fact]
    public void Numbers_compare_by_value_across_int_and_double()
    {
        Assert.True(new EqualsFilter("year", MetadataValue.Of(2020.0)).Matches(Doc));
        Assert.True(new EqualsFilter("score", MetadataValue.Of(0.5)).Matches(Doc));
        Assert.False(new EqualsFilter("year", MetadataValue.Of("2020")).Matches(Doc));
    }

    [Fact]
    public void String_list_equality_means_contains()
    {
        Assert.True(new EqualsFilter("tags", MetadataValue.Of("med")).Matches(Doc));
        Assert.False(new EqualsFilter("tags", MetadataValue.Of("law")).Matches(Doc));
        Assert.True(new EqualsFilter("tags", MetadataValue.Of(["bio", "med"])).Matches(Doc));
    }

    [Fact]
    public void Any_of_range_exists_and_bool()
    {
        Assert.True(new AnyOfFilter("lang", [MetadataValue.Of("de"), MetadataValue.Of("en")]).Matches(Doc));
        Assert.False(new AnyOfFilter("lang", [MetadataValue.Of("de")]).Matches(Doc));
        Assert.True(new RangeFilter("year", null, 2020, null, 2020).Matches(Doc));
        Assert.False(new RangeFilter("year", 2020, null, null, null).Matches(Doc));
        Assert.True(new RangeFilter("score", null, null, 0.6, null).Matches(Doc));
        Assert.False(new RangeFilter("lang", null, 0, null, null).Matches(Doc));
        Assert.True(new ExistsFilter("open").Matches(Doc));
        Assert.False(new ExistsFilter("closed").Matches(Doc));
        Assert.True(new EqualsFilter("open", MetadataValue.Of(true)).Matches(Doc));
        Assert.False(new EqualsFilter("open", MetadataValue.Of(false)).Matches(Doc));
    }

    [Fact]
    public void And_or_not_combine()
    {
        var en = new EqualsFilter("lang", MetadataValue.Of("en"));
        var old = new RangeFilter("year", null, null, 2000, null);
        Assert.False(new AndFilter([en, old]).Matches(Doc));
        Assert.True(new OrFilter([en, old]).Matches(Doc));
        Assert.True(new NotFilter(old).Matches(Doc));
        Assert.True(new AndFilter([en, new NotFilter(old)]).Matches(Doc));
    }
}
