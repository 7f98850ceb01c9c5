using System.Reflection;
using System.Reflection.Emit;

namespace BgeVectorDb.Architecture.Tests;

/// <summary>
/// Which types a namespace of a compiled assembly uses, read from its metadata and IL: base types, interfaces,
/// generic arguments and constraints, attributes, fields, properties, events, method signatures, locals and every
/// type, method or field token in the method bodies. Types nested in a type (closures, async state machines,
/// iterators the compiler generates) count as part of their outermost type's namespace.
/// </summary>
internal static class NamespaceDependencies
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>"Type -> used type" for each type of <paramref name="assembly"/> in one of <paramref name="from"/>
    /// (or a namespace under it) that uses a type in <paramref name="forbidden"/> (or a namespace under it).</summary>
    public static List<string> Violations(Assembly assembly, string[] from, string forbidden)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is not null) outer = outer.DeclaringType;
            if (!from.Any(ns => InNamespace(outer, ns))) continue;
            foreach (var used in Uses(type))
            {
                if (InNamespace(used, forbidden)) found.Add($"{outer.FullName} -> {used.FullName}");
            }
        }
        return [.. found];
    }

    private static bool InNamespace(Type type, string ns)
    {
        var outer = type;
        while (outer.DeclaringType is not null) outer = outer.DeclaringType;
        var name = outer.Namespace ?? "";
        return name == ns || name.StartsWith(ns + ".", StringComparison.Ordinal);
    }

    /// <summary>The types <paramref name="type"/> mentions in its metadata and method bodies (element types of
    /// arrays, pointers and by-refs and the arguments of generic types included).</summary>
    private static HashSet<Type> Uses(Type type)
    {
        var uses = new HashSet<Type>();
        var visited = new HashSet<Type>(); // also ends recursive constraints such as T : IComparable<T>
        void Add(Type? t)
        {
            if (t is null || !visited.Add(t)) return;
            if (t.HasElementType)
            {
                Add(t.GetElementType());
                return;
            }
            if (t.IsGenericParameter)
            {
                foreach (var constraint in t.GetGenericParameterConstraints()) Add(constraint);
                return;
            }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                Add(t.GetGenericTypeDefinition());
                foreach (var argument in t.GetGenericArguments()) Add(argument);
                return;
            }
            uses.Add(t);
        }
        void AddAttributes(IEnumerable<CustomAttributeData> attributes)
        {
            foreach (var a in attributes)
            {
                Add(a.AttributeType);
                foreach (var arg in a.ConstructorArguments) Add(arg.Value as Type);
            }
        }
        void AddMember(MemberInfo? member)
        {
            switch (member)
            {
                case Type t:
                    Add(t);
                    break;
                case FieldInfo f:
                    Add(f.DeclaringType);
                    Add(f.FieldType);
                    break;
                case MethodBase m:
                    Add(m.DeclaringType);
                    if (m is MethodInfo mi)
                    {
                        Add(mi.ReturnType);
                        if (mi.IsGenericMethod) foreach (var g in mi.GetGenericArguments()) Add(g);
                    }
                    foreach (var p in m.GetParameters()) Add(p.ParameterType);
                    break;
            }
        }

        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        if (type.IsGenericTypeDefinition) foreach (var g in type.GetGenericArguments()) Add(g);
        AddAttributes(type.GetCustomAttributesData());
        foreach (var f in type.GetFields(Declared))
        {
            Add(f.FieldType);
            AddAttributes(f.GetCustomAttributesData());
        }
        foreach (var p in type.GetProperties(Declared))
        {
            Add(p.PropertyType);
            AddAttributes(p.GetCustomAttributesData());
        }
        foreach (var e in type.GetEvents(Declared)) Add(e.EventHandlerType);
        var methods = type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared));
        foreach (var method in methods)
        {
            AddMember(method);
            AddAttributes(method.GetCustomAttributesData());
            foreach (var p in method.GetParameters()) AddAttributes(p.GetCustomAttributesData());
            if (method.IsGenericMethodDefinition) foreach (var g in method.GetGenericArguments()) Add(g);
            var body = method.GetMethodBody();
            if (body is null) continue;
            foreach (var local in body.LocalVariables) Add(local.LocalType);
            foreach (var clause in body.ExceptionHandlingClauses)
            {
                if (clause.Flags == ExceptionHandlingClauseOptions.Clause) Add(clause.CatchType);
            }
            var typeArguments = type.IsGenericType ? type.GetGenericArguments() : null;
            var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
            foreach (var token in MemberTokens(body.GetILAsByteArray() ?? []))
            {
                AddMember(type.Module.ResolveMember(token, typeArguments, methodArguments));
            }
        }
        return uses;
    }

    /// <summary>The operand tokens of the IL instructions that name a type, method or field.</summary>
    private static IEnumerable<int> MemberTokens(byte[] il)
    {
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | il[i++]));
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineType:
                case OperandType.InlineMethod:
                case OperandType.InlineField:
                case OperandType.InlineTok:
                    yield return BitConverter.ToInt32(il, i);
                    i += 4;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                    i += 4;
                    break;
            }
        }
    }
}
