using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace WatcherSync.Packaging.Tests;

/// <summary>
/// Writes an assembly's public surface as sorted text, one line per type and member (public and protected, as a
/// consumer can reach them), so that any change to it shows up as a line added or removed.
/// </summary>
internal static class PublicApiFormatter
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly NullabilityInfoContext Nullability = new();

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void", [typeof(object)] = "object", [typeof(string)] = "string", [typeof(bool)] = "bool",
        [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte", [typeof(short)] = "short", [typeof(ushort)] = "ushort",
        [typeof(int)] = "int", [typeof(uint)] = "uint", [typeof(long)] = "long", [typeof(ulong)] = "ulong",
        [typeof(float)] = "float", [typeof(double)] = "double", [typeof(decimal)] = "decimal", [typeof(char)] = "char",
    };

    public static string Format(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (Type type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeLine(type)).Append('\n');
            foreach (string member in Members(type).Order(StringComparer.Ordinal))
            {
                text.Append("  ").Append(member).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string TypeLine(Type type)
    {
        string kind = type switch
        {
            { IsEnum: true } => "enum",
            { IsInterface: true } => "interface",
            { IsValueType: true } => (IsReadOnly(type) ? "readonly " : string.Empty) + (IsRecord(type) ? "record struct" : "struct"),
            _ when typeof(Delegate).IsAssignableFrom(type) => "delegate",
            { IsAbstract: true, IsSealed: true } => "static class",
            { IsAbstract: true } => "abstract " + (IsRecord(type) ? "record" : "class"),
            { IsSealed: true } => "sealed " + (IsRecord(type) ? "record" : "class"),
            _ => IsRecord(type) ? "record" : "class",
        };
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum) && baseType != typeof(MulticastDelegate))
        {
            bases.Add(Name(baseType));
        }

        Type[] inherited = type.BaseType?.GetInterfaces() ?? [];
        bases.AddRange(type.GetInterfaces().Where(i => (i.IsPublic || i.IsNestedPublic) && !inherited.Contains(i)).Select(i => Name(i)).Order(StringComparer.Ordinal));
        return $"{kind} {Name(type)}" + (bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty);
    }

    private static IEnumerable<string> Members(Type type)
    {
        if (type.IsEnum)
        {
            foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                yield return $"{field.Name} = {Convert.ToString(field.GetRawConstantValue(), CultureInfo.InvariantCulture)}";
            }

            yield break;
        }

        if (typeof(Delegate).IsAssignableFrom(type))
        {
            MethodInfo invoke = type.GetMethod("Invoke")!;
            yield return $"{Name(invoke.ReturnType, Nullability.Create(invoke.ReturnParameter))} Invoke({Parameters(invoke)})";
            yield break;
        }

        foreach (MemberInfo member in type.GetMembers(Declared))
        {
            if (member.Name.StartsWith('<') || member is Type)
            {
                continue;
            }

            string? line = member switch
            {
                ConstructorInfo c when Visible(c) => $"{Modifiers(c)}ctor({Parameters(c)})",
                MethodInfo m when Visible(m) && (!m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal)) =>
                    $"{Modifiers(m)}{Name(m.ReturnType, Nullability.Create(m.ReturnParameter))} {m.Name}{GenericArguments(m)}({Parameters(m)})",
                PropertyInfo p => Property(p),
                FieldInfo f when f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly => Field(f),
                EventInfo e when e.AddMethod is { } add && Visible(add) => $"{Modifiers(add)}event {Name(e.EventHandlerType!, Nullability.Create(e))} {e.Name}",
                _ => null,
            };
            if (line is not null)
            {
                yield return line;
            }
        }
    }

    private static string? Property(PropertyInfo property)
    {
        MethodInfo? get = property.GetMethod is { } g && Visible(g) ? g : null;
        MethodInfo? set = property.SetMethod is { } s && Visible(s) ? s : null;
        if ((get ?? set) is not { } accessor)
        {
            return null;
        }

        bool init = set?.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)) == true;
        string indexer = property.GetIndexParameters() is { Length: > 0 } index ? $"[{string.Join(", ", index.Select(Parameter))}]" : string.Empty;
        string accessors = (get is null ? string.Empty : "get; ") + (set is null ? string.Empty : init ? "init; " : "set; ");
        return $"{Modifiers(accessor)}{Name(property.PropertyType, Nullability.Create(property))} {(indexer.Length > 0 ? "this" + indexer : property.Name)} {{ {accessors}}}";
    }

    private static string Field(FieldInfo field)
    {
        string modifiers = (field.IsFamily ? "protected " : string.Empty) + (field.IsLiteral ? "const " : (field.IsStatic ? "static " : string.Empty) + (field.IsInitOnly ? "readonly " : string.Empty));
        string value = field.IsLiteral ? " = " + Literal(field.GetRawConstantValue()) : string.Empty;
        return $"{modifiers}{Name(field.FieldType, Nullability.Create(field))} {field.Name}{value}";
    }

    private static bool Visible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static string Modifiers(MethodBase method)
    {
        var modifiers = new StringBuilder(method.IsFamily || method.IsFamilyOrAssembly ? "protected " : string.Empty);
        if (method.IsStatic)
        {
            modifiers.Append("static ");
        }
        else if (method.IsAbstract && !method.DeclaringType!.IsInterface)
        {
            modifiers.Append("abstract ");
        }
        else if (method is MethodInfo info && method.IsVirtual && !method.IsFinal && !method.DeclaringType!.IsInterface)
        {
            modifiers.Append(info.GetBaseDefinition() != info ? "override " : "virtual ");
        }

        return modifiers.ToString();
    }

    private static string Parameters(MethodBase method) => string.Join(", ", method.GetParameters().Select(Parameter));

    private static string Parameter(ParameterInfo parameter)
    {
        string prefix = parameter.IsDefined(typeof(ParamArrayAttribute)) ? "params " : string.Empty;
        Type type = parameter.ParameterType;
        if (type.IsByRef)
        {
            prefix += parameter.IsOut ? "out " : parameter.IsIn ? "in " : "ref ";
            type = type.GetElementType()!;
        }

        string suffix = !parameter.HasDefaultValue ? string.Empty
            : parameter.RawDefaultValue is null && type.IsValueType && Nullable.GetUnderlyingType(type) is null ? " = default"
            : " = " + Literal(parameter.RawDefaultValue);
        NullabilityInfo nullability = Nullability.Create(parameter);
        if (parameter.ParameterType.IsByRef)
        {
            nullability = nullability.ElementType ?? nullability;
        }

        return $"{prefix}{Name(type, nullability)} {parameter.Name}{suffix}";
    }

    private static string GenericArguments(MethodInfo method) =>
        method.IsGenericMethodDefinition ? "<" + string.Join(", ", method.GetGenericArguments().Select(Constrained)) + ">" : string.Empty;

    private static string Constrained(Type argument)
    {
        var constraints = new List<string>();
        GenericParameterAttributes flags = argument.GenericParameterAttributes;
        if (flags.HasFlag(GenericParameterAttributes.ReferenceTypeConstraint))
        {
            constraints.Add("class");
        }

        if (flags.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint))
        {
            constraints.Add("struct");
        }

        constraints.AddRange(argument.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).Select(c => Name(c)));
        return constraints.Count == 0 ? argument.Name : $"{argument.Name} : {string.Join(", ", constraints)}";
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        DBNull or Missing => "default",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    /// <summary>The C# name of <paramref name="type"/>, with <c>?</c> where <paramref name="nullability"/> says a reference may be null.</summary>
    private static string Name(Type type, NullabilityInfo? nullability = null)
    {
        string mark = !type.IsValueType && nullability?.ReadState == NullabilityState.Nullable ? "?" : string.Empty;
        return PlainName(type, nullability) + mark;
    }

    private static string PlainName(Type type, NullabilityInfo? nullability)
    {
        if (Keywords.TryGetValue(type, out string? keyword))
        {
            return keyword;
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!, nullability?.ElementType) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (type.IsByRef || type.IsPointer)
        {
            return Name(type.GetElementType()!) + (type.IsPointer ? "*" : "&");
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        string name = type.IsNested ? Name(type.DeclaringType!) + "." + type.Name : type.Namespace + "." + type.Name;
        if (type.IsGenericType)
        {
            int tick = name.IndexOf('`', StringComparison.Ordinal);
            if (tick >= 0)
            {
                name = name[..tick];
            }

            Type[] arguments = type.GetGenericArguments();
            NullabilityInfo[] argumentNullability = nullability?.GenericTypeArguments ?? [];
            int skip = type.IsNested ? type.DeclaringType!.GetGenericArguments().Length : 0;
            if (arguments.Length > skip)
            {
                name += "<" + string.Join(", ", arguments.Select((a, i) => Name(a, i < argumentNullability.Length ? argumentNullability[i] : null)).Skip(skip)) + ">";
            }
        }

        return name;
    }

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$") is not null
        || (type.IsValueType && type.GetMethod("PrintMembers", BindingFlags.NonPublic | BindingFlags.Instance) is not null);

    private static bool IsReadOnly(Type type) => type.IsDefined(typeof(IsReadOnlyAttribute), inherit: false);
}
