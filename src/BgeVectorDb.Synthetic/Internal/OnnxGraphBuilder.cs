using System.Runtime.InteropServices;
using BgeVectorDb.Synthetic.Onnx;
using Google.Protobuf;

namespace BgeVectorDb.Synthetic.Internal;

/// <summary>Small helper to emit ONNX nodes, initializers and typed graph inputs/outputs.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public GraphProto Graph { get; } = new();

    /// <summary>Adds a node and returns the name of its (single) output; <paramref name="output"/> names it
    /// explicitly, otherwise a unique name is derived from <paramref name="scope"/> and the op type.</summary>
    public string Node(string opType, string scope, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        var name = $"{scope}/{opType}_{_counter++}";
        var outName = output ?? name + ":0";
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(outName);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return outName;
    }

    /// <summary>A float initializer stored as little-endian raw_data.</summary>
    public string Float(string name, ReadOnlySpan<int> dims, float[] data)
    {
        var t = NewTensor(name, dims, TensorProto.Types.DataType.Float);
        var bytes = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        t.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A float constant initializer (scalar when <paramref name="dims"/> is empty).</summary>
    public string FloatConst(string name, float value, params int[] dims) => Float(name, dims, [value]);

    /// <summary>An int64 initializer (scalar when <paramref name="dims"/> is empty).</summary>
    public string Int64(string name, long[] values, params int[] dims)
    {
        var t = NewTensor(name, dims, TensorProto.Types.DataType.Int64);
        t.RawData = UnsafeByteOperations.UnsafeWrap(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        Graph.Initializer.Add(t);
        return name;
    }

    public void Input(string name, TensorProto.Types.DataType type, params object[] dims) =>
        Graph.Input.Add(ValueInfo(name, type, dims));

    public void Output(string name, TensorProto.Types.DataType type, params object[] dims) =>
        Graph.Output.Add(ValueInfo(name, type, dims));

    public static AttributeProto Attr(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private TensorProto NewTensor(string name, ReadOnlySpan<int> dims, TensorProto.Types.DataType type)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"Duplicate initializer name '{name}'.");
        }

        var t = new TensorProto { Name = name, DataType = (int)type };
        foreach (var d in dims)
        {
            t.Dims.Add(d);
        }

        return t;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                string p => new TensorShapeProto.Types.Dimension { DimParam = p },
                int v => new TensorShapeProto.Types.Dimension { DimValue = v },
                _ => throw new ArgumentException("Dimension must be a string (symbolic) or an int."),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
