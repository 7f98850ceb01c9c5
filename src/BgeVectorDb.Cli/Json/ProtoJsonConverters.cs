using System.Text;
using System.Text.Json;
using BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Cli.Json;

/// <summary>A JSON input that does not have the expected shape; the message names the JSON path.</summary>
internal sealed class JsonShapeException(string message) : Exception(message);

/// <summary>
/// Metadata values between plain JSON and proto <see cref="Value"/>:
/// string -> string_value; integer number (no '.', 'e' or 'E' in its text, fits int64) -> int_value;
/// other number -> double_value; true/false -> bool_value; array of strings -> string_list_value.
/// null, objects and arrays holding anything but strings are refused.
/// </summary>
internal static class ValueJson
{
    /// <summary>Converts one JSON value; <paramref name="path"/> (e.g. "metadata.year") is used in errors.</summary>
    public static Value FromElement(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return new Value { StringValue = element.GetString()! };
            case JsonValueKind.True:
            case JsonValueKind.False:
                return new Value { BoolValue = element.GetBoolean() };
            case JsonValueKind.Number:
                var raw = element.GetRawText();
                if (raw.IndexOfAny(['.', 'e', 'E']) < 0 && element.TryGetInt64(out var i))
                {
                    return new Value { IntValue = i };
                }
                var d = element.GetDouble();
                if (!double.IsFinite(d))
                {
                    throw new JsonShapeException($"{path}: number {raw} is out of range");
                }
                return new Value { DoubleValue = d };
            case JsonValueKind.Array:
                var list = new StringList();
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        throw new JsonShapeException(
                            $"{path}[{index}]: arrays may hold only strings, got {Describe(item.ValueKind)}");
                    }
                    list.Values.Add(item.GetString()!);
                    index++;
                }
                return new Value { StringListValue = list };
            default:
                throw new JsonShapeException(
                    $"{path}: expected a string, number, boolean or array of strings, got {Describe(element.ValueKind)}");
        }
    }

    /// <summary>Converts a flat JSON object into metadata entries (added to <paramref name="target"/>).</summary>
    public static void AddObject(JsonElement obj, string path, IDictionary<string, Value> target)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            throw new JsonShapeException($"{path}: expected an object, got {Describe(obj.ValueKind)}");
        }
        foreach (var property in obj.EnumerateObject())
        {
            target[property.Name] = FromElement(property.Value, $"{path}.{property.Name}");
        }
    }

    /// <summary>Plain JSON text of a value (the inverse of <see cref="FromElement"/>), for display.</summary>
    public static string ToJson(Value value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Plain JSON object text of a metadata map, keys in ordinal order, for display.</summary>
    public static string ToJson(IEnumerable<KeyValuePair<string, Value>> metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WritePropertyName(key);
                Write(writer, value);
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, Value value)
    {
        switch (value.KindCase)
        {
            case Value.KindOneofCase.StringValue:
                writer.WriteStringValue(value.StringValue);
                break;
            case Value.KindOneofCase.IntValue:
                writer.WriteNumberValue(value.IntValue);
                break;
            case Value.KindOneofCase.DoubleValue:
                writer.WriteNumberValue(value.DoubleValue);
                break;
            case Value.KindOneofCase.BoolValue:
                writer.WriteBooleanValue(value.BoolValue);
                break;
            case Value.KindOneofCase.StringListValue:
                writer.WriteStartArray();
                foreach (var s in value.StringListValue.Values)
                {
                    writer.WriteStringValue(s);
                }
                writer.WriteEndArray();
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    internal static string Describe(JsonValueKind kind) => BgeVectorDb.Common.Beir.BeirReader.Describe(kind);
}

/// <summary>
/// The <c>--filter</c> JSON form to a proto <see cref="Filter"/>. A filter is an object with exactly one of:
/// <code>
/// {"field": {"key": "year", "equals": 2020}}         equals: a value (see ValueJson)
/// {"field": {"key": "tag",  "any_of": ["a", "b"]}}   any_of: array of scalar values
/// {"field": {"key": "year", "range": {"gte": 2000, "lt": 2020}}}   gt/gte/lt/lte numbers
/// {"field": {"key": "doi",  "exists": true}}         exists: false is sent as not(exists)
/// {"and": [filter, ...]}  {"or": [filter, ...]}  {"not": filter}
/// </code>
/// Unknown keys are refused so that typos do not silently widen a filter.
/// </summary>
internal static class FilterJson
{
    /// <summary>Parses filter JSON text; throws <see cref="JsonShapeException"/> with the JSON path on errors.</summary>
    public static Filter Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new JsonShapeException($"filter is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            return FromElement(doc.RootElement, "$");
        }
    }

    /// <summary>Converts one filter object at <paramref name="path"/>.</summary>
    public static Filter FromElement(JsonElement element, string path)
    {
        var (name, body) = SingleProperty(element, path, "a filter", ["field", "and", "or", "not"]);
        var at = $"{path}.{name}";
        switch (name)
        {
            case "field":
                return FieldFilter(body, at);
            case "and":
                return new Filter { And = List(body, at) };
            case "or":
                return new Filter { Or = List(body, at) };
            default:
                return new Filter { Not = FromElement(body, at) };
        }
    }

    private static FilterList List(JsonElement array, string path)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new JsonShapeException($"{path}: expected an array of filters, got {ValueJson.Describe(array.ValueKind)}");
        }
        var list = new FilterList();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            list.Filters.Add(FromElement(item, $"{path}[{index}]"));
            index++;
        }
        if (index == 0)
        {
            throw new JsonShapeException($"{path}: needs at least one filter");
        }
        return list;
    }

    private static Filter FieldFilter(JsonElement body, string path)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new JsonShapeException($"{path}: expected an object with \"key\" and one condition, got {ValueJson.Describe(body.ValueKind)}");
        }
        string? key = null;
        JsonProperty? condition = null;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "key":
                    if (property.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(property.Value.GetString()))
                    {
                        throw new JsonShapeException($"{path}.key: expected a non-empty string");
                    }
                    key = property.Value.GetString()!;
                    break;
                case "equals" or "any_of" or "range" or "exists":
                    if (condition is not null)
                    {
                        throw new JsonShapeException(
                            $"{path}: only one of equals, any_of, range, exists is allowed (got {condition.Value.Name} and {property.Name})");
                    }
                    condition = property;
                    break;
                default:
                    throw new JsonShapeException(
                        $"{path}: unknown key \"{property.Name}\" (expected key and one of equals, any_of, range, exists)");
            }
        }
        if (key is null)
        {
            throw new JsonShapeException($"{path}: missing \"key\"");
        }
        if (condition is not { } c)
        {
            throw new JsonShapeException($"{path}: missing a condition (equals, any_of, range or exists)");
        }

        var at = $"{path}.{c.Name}";
        var field = new FieldCondition { Key = key };
        switch (c.Name)
        {
            case "equals":
                field.Equals_ = ValueJson.FromElement(c.Value, at);
                break;
            case "any_of":
                field.AnyOf = AnyOf(c.Value, at);
                break;
            case "range":
                field.Range = Range(c.Value, at);
                break;
            default:
                if (c.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    throw new JsonShapeException($"{at}: expected true or false, got {ValueJson.Describe(c.Value.ValueKind)}");
                }
                field.Exists = true;
                if (!c.Value.GetBoolean())
                {
                    return new Filter { Not = new Filter { Field = field } };
                }
                break;
        }
        return new Filter { Field = field };
    }

    private static ValueList AnyOf(JsonElement array, string path)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new JsonShapeException($"{path}: expected an array of values, got {ValueJson.Describe(array.ValueKind)}");
        }
        var list = new ValueList();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                throw new JsonShapeException($"{path}[{index}]: expected a string, number or boolean, got an array");
            }
            list.Values.Add(ValueJson.FromElement(item, $"{path}[{index}]"));
            index++;
        }
        if (index == 0)
        {
            throw new JsonShapeException($"{path}: needs at least one value");
        }
        return list;
    }

    private static Protos.V1.Range Range(JsonElement obj, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            throw new JsonShapeException($"{path}: expected an object with gt, gte, lt, lte, got {ValueJson.Describe(obj.ValueKind)}");
        }
        var range = new Protos.V1.Range();
        var any = false;
        foreach (var property in obj.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out var bound) || !double.IsFinite(bound))
            {
                throw new JsonShapeException($"{path}.{property.Name}: expected a finite number");
            }
            switch (property.Name)
            {
                case "gt": range.Gt = bound; break;
                case "gte": range.Gte = bound; break;
                case "lt": range.Lt = bound; break;
                case "lte": range.Lte = bound; break;
                default:
                    throw new JsonShapeException($"{path}: unknown bound \"{property.Name}\" (expected gt, gte, lt, lte)");
            }
            any = true;
        }
        if (!any)
        {
            throw new JsonShapeException($"{path}: needs at least one of gt, gte, lt, lte");
        }
        return range;
    }

    private static (string Name, JsonElement Body) SingleProperty(JsonElement element, string path, string what, string[] allowed)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new JsonShapeException($"{path}: expected {what} object, got {ValueJson.Describe(element.ValueKind)}");
        }
        (string Name, JsonElement Body)? found = null;
        foreach (var property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new JsonShapeException(
                    $"{path}: unknown key \"{property.Name}\" (expected one of {string.Join(", ", allowed)})");
            }
            if (found is not null)
            {
                throw new JsonShapeException(
                    $"{path}: a filter has exactly one of {string.Join(", ", allowed)} (got {found.Value.Name} and {property.Name}); combine with \"and\"");
            }
            found = (property.Name, property.Value);
        }
        return found ?? throw new JsonShapeException(
            $"{path}: empty filter object (expected one of {string.Join(", ", allowed)})");
    }
}
