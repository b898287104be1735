using System.Reflection;
using System.Reflection.Emit;
using Portal.Web.Features.Runs;

namespace Portal.Web.Tests.Architecture;

/// <summary>
/// Runs is the lower feature; Curves and Agents build on it. The graph is read from the compiled portal, so a
/// reference hidden in a method body or a Razor component (OpenComponent&lt;T&gt;) counts as much as a field.
/// </summary>
public sealed class FeatureDependencyTests
{
    private static readonly string[] Layered = ["Runs", "Curves", "Agents"];

    [Fact]
    public void Runs_curves_and_agents_have_no_dependency_cycle_between_them()
    {
        var graph = FeatureGraph.Of(typeof(Run).Assembly);
        var edges = graph.Edges.Where(e => Layered.Contains(e.Key.From) && Layered.Contains(e.Key.To)).ToList();

        var cycles = edges.Where(e => graph.Reaches(e.Key.To, e.Key.From, Layered)).ToList();

        Assert.True(cycles.Count == 0, "Feature dependencies in a cycle:\n" + string.Join("\n",
            cycles.Select(e => $"{e.Key.From} -> {e.Key.To}, e.g. {string.Join("; ", e.Value.Take(3))}")));
    }

    [Fact]
    public void The_graph_sees_references_made_only_inside_method_bodies_and_razor_components()
    {
        var graph = FeatureGraph.Of(typeof(Run).Assembly);

        // The demo project creates a Run only inside a method body; the runs page renders the project header only
        // through OpenComponent<ProjectHeader> in its render tree. Neither shows in a signature.
        Assert.Contains("DemoShapesProject -> Run", graph.Edges[("Agents", "Runs")]);
        Assert.Contains("ProjectRunsPage -> ProjectHeader", graph.Edges[("Runs", "Projects")]);
    }
}

/// <summary>Which feature namespace (Portal.Web.Features.X) refers to which, with example type pairs.</summary>
internal sealed class FeatureGraph
{
    private const string Prefix = "Portal.Web.Features.";
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    public Dictionary<(string From, string To), HashSet<string>> Edges { get; } = [];

    public static FeatureGraph Of(Assembly assembly)
    {
        var graph = new FeatureGraph();
        foreach (var type in assembly.GetTypes())
        {
            if (Feature(type) is not { } from) continue;
            foreach (var used in References(type))
            {
                if (Feature(used) is { } to && to != from)
                {
                    if (!graph.Edges.TryGetValue((from, to), out var examples)) graph.Edges[(from, to)] = examples = [];
                    examples.Add($"{Outer(type).Name} -> {Outer(used).Name}");
                }
            }
        }
        return graph;
    }

    /// <summary>Whether <paramref name="to"/> can be reached from <paramref name="from"/> through the given features.</summary>
    public bool Reaches(string from, string to, IReadOnlyCollection<string> through)
    {
        var seen = new HashSet<string> { from };
        var queue = new Queue<string>([from]);
        while (queue.TryDequeue(out var at))
        {
            foreach (var next in Edges.Keys.Where(k => k.From == at).Select(k => k.To))
            {
                if (next == to) return true;
                if (through.Contains(next) && seen.Add(next)) queue.Enqueue(next);
            }
        }
        return false;
    }

    private static Type Outer(Type type)
    {
        while (type.DeclaringType is { } declaring) type = declaring;
        return type;
    }

    private static string? Feature(Type type)
    {
        var ns = Outer(type).Namespace;
        if (ns is null || !ns.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var rest = ns[Prefix.Length..];
        var dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
                                          BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> References(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericParameter || !found.Add(t)) return;
            if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) Add(a);
        }

        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(Declared)) Add(f.FieldType);
        foreach (var p in type.GetProperties(Declared)) Add(p.PropertyType);
        foreach (var e in type.GetEvents(Declared)) Add(e.EventHandlerType);
        foreach (var a in type.GetCustomAttributesData()) Add(a.AttributeType);
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo m) Add(m.ReturnType);
            foreach (var p in method.GetParameters()) Add(p.ParameterType);
            foreach (var used in BodyReferences(method)) Add(used);
        }
        return found;
    }

    /// <summary>Types named by a method's locals and by the tokens of its IL (types, fields, methods and their generic arguments).</summary>
    private static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        var body = method.GetMethodBody();
        if (body is null) yield break;
        foreach (var local in body.LocalVariables) yield return local.LocalType;
        var il = body.GetILAsByteArray() ?? [];
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var pos = 0; pos < il.Length;)
        {
            short value = il[pos++];
            if (value == 0xFE) value = (short)(0xFE00 | il[pos++]);
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineType or OperandType.InlineTok or OperandType.InlineMethod or OperandType.InlineField:
                    MemberInfo? member;
                    try { member = method.Module.ResolveMember(BitConverter.ToInt32(il, pos), typeArgs, methodArgs); }
                    catch (ArgumentException) { member = null; }
                    switch (member)
                    {
                        case Type t: yield return t; break;
                        case FieldInfo f: yield return f.DeclaringType!; yield return f.FieldType; break;
                        case MethodBase m:
                            yield return m.DeclaringType!;
                            if (m is MethodInfo mi) yield return mi.ReturnType;
                            if (m.IsGenericMethod) foreach (var a in m.GetGenericArguments()) yield return a;
                            break;
                    }
                    pos += 4;
                    break;
                case OperandType.InlineSwitch:
                    pos += 4 + 4 * BitConverter.ToInt32(il, pos);
                    break;
                default:
                    pos += op.OperandType switch
                    {
                        OperandType.InlineNone => 0,
                        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                        OperandType.InlineVar => 2,
                        OperandType.InlineI8 or OperandType.InlineR => 8,
                        _ => 4,
                    };
                    break;
            }
        }
    }
}
