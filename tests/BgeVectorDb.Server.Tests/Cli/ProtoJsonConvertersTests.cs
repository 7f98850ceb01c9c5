using System.Text.Json;
using BgeVectorDb.Cli.Json;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Tests.Cli;

public sealed class ProtoJsonConvertersTests
{
    private static Value ValueOf(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ValueJson.FromElement(doc.RootElement, "metadata.x");
    }

    [Fact]
    public void Value_scalars_map_to_their_proto_kinds()
    {
        Assert.Equal(Value.KindOneofCase.StringValue, ValueOf("\"abc\"").KindCase);
        Assert.Equal("abc", ValueOf("\"abc\"").StringValue);
        Assert.Equal(2020L, ValueOf("2020").IntValue);
        Assert.Equal(-7L, ValueOf("-7").IntValue);
        Assert.Equal(long.MaxValue, ValueOf("9223372036854775807").IntValue);
        Assert.True(ValueOf("true").BoolValue);
        Assert.Equal(Value.KindOneofCase.BoolValue, ValueOf("false").KindCase);
        Assert.False(ValueOf("false").BoolValue);
    }

    [Fact]
    public void Value_numbers_with_fraction_or_exponent_or_beyond_int64_are_doubles()
    {
        Assert.Equal(Value.KindOneofCase.DoubleValue, ValueOf("2020.0").KindCase);
        Assert.Equal(2020.0, ValueOf("2020.0").DoubleValue);
        Assert.Equal(0.25, ValueOf("0.25").DoubleValue);
        Assert.Equal(1500.0, ValueOf("1.5e3").DoubleValue);
        Assert.Equal(Value.KindOneofCase.DoubleValue, ValueOf("1E2").KindCase);
        Assert.Equal(1e19, ValueOf("10000000000000000000").DoubleValue);
    }

    [Fact]
    public void Value_string_array_is_a_string_list_and_other_arrays_are_refused()
    {
        var list = ValueOf("[\"a\", \"b\", \"\"]");
        Assert.Equal(Value.KindOneofCase.StringListValue, list.KindCase);
        Assert.Equal(["a", "b", ""], list.StringListValue.Values);
        Assert.Empty(ValueOf("[]").StringListValue.Values);

        var e = Assert.Throws<JsonShapeException>(() => ValueOf("[\"a\", 1]"));
        Assert.Equal("metadata.x[1]: arrays may hold only strings, got a number", e.Message);
        Assert.Equal("metadata.x: expected a string, number, boolean or array of strings, got null",
            Assert.Throws<JsonShapeException>(() => ValueOf("null")).Message);
        Assert.Equal("metadata.x: expected a string, number, boolean or array of strings, got an object",
            Assert.Throws<JsonShapeException>(() => ValueOf("{\"a\":1}")).Message);
    }

    [Fact]
    public void Metadata_object_converts_every_field_and_round_trips_to_plain_json()
    {
        using var doc = JsonDocument.Parse("{\"year\":2020,\"score\":0.5,\"ok\":true,\"tags\":[\"x\",\"y\"],\"title\":\"T\\u00e9\"}");
        var map = new Dictionary<string, Value>();
        ValueJson.AddObject(doc.RootElement, "metadata", map);

        Assert.Equal(5, map.Count);
        Assert.Equal(2020L, map["year"].IntValue);
        Assert.Equal(0.5, map["score"].DoubleValue);
        Assert.True(map["ok"].BoolValue);
        Assert.Equal(["x", "y"], map["tags"].StringListValue.Values);
        Assert.Equal("Té", map["title"].StringValue);
        Assert.Equal("{\"ok\":true,\"score\":0.5,\"tags\":[\"x\",\"y\"],\"title\":\"Té\",\"year\":2020}", ValueJson.ToJson(map));
        Assert.Equal("metadata: expected an object, got an array",
            Assert.Throws<JsonShapeException>(() =>
            {
                using var arr = JsonDocument.Parse("[1]");
                ValueJson.AddObject(arr.RootElement, "metadata", map);
            }).Message);
    }

    [Fact]
    public void Filter_field_equals_builds_a_field_condition()
    {
        var f = FilterJson.Parse("{\"field\":{\"key\":\"year\",\"equals\":2020}}");
        Assert.Equal(Filter.KindOneofCase.Field, f.KindCase);
        Assert.Equal("year", f.Field.Key);
        Assert.Equal(FieldCondition.MatchOneofCase.Equals_, f.Field.MatchCase);
        Assert.Equal(2020L, f.Field.Equals_.IntValue);

        var s = FilterJson.Parse("{\"field\":{\"equals\":\"bio\",\"key\":\"topic\"}}");
        Assert.Equal("topic", s.Field.Key);
        Assert.Equal("bio", s.Field.Equals_.StringValue);
    }

    [Fact]
    public void Filter_any_of_range_and_exists()
    {
        var any = FilterJson.Parse("{\"field\":{\"key\":\"tag\",\"any_of\":[\"a\",3,true]}}");
        Assert.Equal(FieldCondition.MatchOneofCase.AnyOf, any.Field.MatchCase);
        Assert.Equal("a", any.Field.AnyOf.Values[0].StringValue);
        Assert.Equal(3L, any.Field.AnyOf.Values[1].IntValue);
        Assert.True(any.Field.AnyOf.Values[2].BoolValue);

        var range = FilterJson.Parse("{\"field\":{\"key\":\"year\",\"range\":{\"gte\":2000,\"lt\":2020.5}}}");
        Assert.Equal(FieldCondition.MatchOneofCase.Range, range.Field.MatchCase);
        Assert.True(range.Field.Range.HasGte);
        Assert.Equal(2000.0, range.Field.Range.Gte);
        Assert.True(range.Field.Range.HasLt);
        Assert.Equal(2020.5, range.Field.Range.Lt);
        Assert.False(range.Field.Range.HasGt);
        Assert.False(range.Field.Range.HasLte);

        var exists = FilterJson.Parse("{\"field\":{\"key\":\"doi\",\"exists\":true}}");
        Assert.Equal(FieldCondition.MatchOneofCase.Exists, exists.Field.MatchCase);
        Assert.True(exists.Field.Exists);

        var missing = FilterJson.Parse("{\"field\":{\"key\":\"doi\",\"exists\":false}}");
        Assert.Equal(Filter.KindOneofCase.Not, missing.KindCase);
        Assert.Equal("doi", missing.Not.Field.Key);
        Assert.True(missing.Not.Field.Exists);
    }

    [Fact]
    public void Filter_and_or_not_nest()
    {
        var f = FilterJson.Parse("""
            {"and": [
              {"field": {"key": "year", "range": {"gt": 2010}}},
              {"or": [
                {"field": {"key": "tag", "equals": "x"}},
                {"not": {"field": {"key": "draft", "equals": true}}}
              ]}
            ]}
            """);
        Assert.Equal(Filter.KindOneofCase.And, f.KindCase);
        Assert.Equal(2, f.And.Filters.Count);
        Assert.Equal(2010.0, f.And.Filters[0].Field.Range.Gt);
        var or = f.And.Filters[1];
        Assert.Equal(Filter.KindOneofCase.Or, or.KindCase);
        Assert.Equal("x", or.Or.Filters[0].Field.Equals_.StringValue);
        Assert.Equal(Filter.KindOneofCase.Not, or.Or.Filters[1].KindCase);
        Assert.Equal("draft", or.Or.Filters[1].Not.Field.Key);
        Assert.True(or.Or.Filters[1].Not.Field.Equals_.BoolValue);
    }

    [Theory]
    [InlineData("{\"field\":{\"key\":\"y\",\"equals\":1},\"and\":[]}", "$: a filter has exactly one of field, and, or, not (got field and and); combine with \"and\"")]
    [InlineData("{\"feld\":{}}", "$: unknown key \"feld\" (expected one of field, and, or, not)")]
    [InlineData("{}", "$: empty filter object (expected one of field, and, or, not)")]
    [InlineData("[1]", "$: expected a filter object, got an array")]
    [InlineData("{\"field\":{\"equals\":1}}", "$.field: missing \"key\"")]
    [InlineData("{\"field\":{\"key\":\"y\"}}", "$.field: missing a condition (equals, any_of, range or exists)")]
    [InlineData("{\"field\":{\"key\":\"y\",\"equals\":1,\"exists\":true}}", "$.field: only one of equals, any_of, range, exists is allowed (got equals and exists)")]
    [InlineData("{\"field\":{\"key\":\"y\",\"eq\":1}}", "$.field: unknown key \"eq\" (expected key and one of equals, any_of, range, exists)")]
    [InlineData("{\"field\":{\"key\":\"y\",\"range\":{\"gte\":\"2000\"}}}", "$.field.range.gte: expected a finite number")]
    [InlineData("{\"field\":{\"key\":\"y\",\"range\":{\"from\":1}}}", "$.field.range: unknown bound \"from\" (expected gt, gte, lt, lte)")]
    [InlineData("{\"field\":{\"key\":\"y\",\"range\":{}}}", "$.field.range: needs at least one of gt, gte, lt, lte")]
    [InlineData("{\"field\":{\"key\":\"y\",\"any_of\":[]}}", "$.field.any_of: needs at least one value")]
    [InlineData("{\"field\":{\"key\":\"y\",\"any_of\":[[\"a\"]]}}", "$.field.any_of[0]: expected a string, number or boolean, got an array")]
    [InlineData("{\"field\":{\"key\":\"y\",\"exists\":1}}", "$.field.exists: expected true or false, got a number")]
    [InlineData("{\"and\":[]}", "$.and: needs at least one filter")]
    [InlineData("{\"or\":{}}", "$.or: expected an array of filters, got an object")]
    [InlineData("{\"and\":[{\"field\":{\"key\":\"a\",\"equals\":null}}]}", "$.and[0].field.equals: expected a string, number, boolean or array of strings, got null")]
    [InlineData("{\"not\":{\"field\":{\"key\":\"\",\"equals\":1}}}", "$.not.field.key: expected a non-empty string")]
    public void Filter_errors_name_the_json_path(string json, string message)
    {
        var e = Assert.Throws<JsonShapeException>(() => FilterJson.Parse(json));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Filter_invalid_json_is_reported_as_such()
    {
        var e = Assert.Throws<JsonShapeException>(() => FilterJson.Parse("{\"field\":"));
        Assert.StartsWith("filter is not valid JSON: ", e.Message);
    }
}
