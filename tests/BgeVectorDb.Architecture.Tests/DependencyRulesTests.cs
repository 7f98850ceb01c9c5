using System.Reflection;
using BgeVectorDb.Common.Models;
using BgeVectorDb.Core.Collections;

namespace BgeVectorDb.Architecture.Tests;

/// <summary>
/// The engine stays free of transport types and the CLI stays small: checked on the assembly references
/// the compiler recorded (an assembly appears there only when code uses one of its types), following
/// references into the project's own BgeVectorDb.* assemblies. Inside Core, the layering of namespaces is checked
/// on metadata and IL (<see cref="NamespaceDependencies"/>): Index and Storage sit below Collections.
/// </summary>
public sealed class DependencyRulesTests
{
    private static readonly string[] TransportPrefixes = ["Grpc.", "Google.Protobuf", "Google.Api", "Microsoft.AspNetCore"];

    private static readonly Assembly Common = typeof(ModelCatalog).Assembly;
    private static readonly Assembly Core = typeof(CollectionCatalog).Assembly;
    private static readonly Assembly Cli = Assembly.Load("bgevdb");

    [Fact]
    public void The_assemblies_under_test_are_the_projects_own()
    {
        Assert.Equal("BgeVectorDb.Common", Common.GetName().Name);
        Assert.Equal("BgeVectorDb.Core", Core.GetName().Name);
        Assert.Equal("bgevdb", Cli.GetName().Name);
        Assert.Contains("BgeVectorDb.Common", References(Core));
        Assert.Contains("BgeVectorDb.Common", References(Cli));
    }

    [Fact]
    public void Core_references_no_grpc_protobuf_or_aspnet_assembly()
    {
        Assert.Empty(Violations(Core, TransportPrefixes));
    }

    [Fact]
    public void Common_references_no_transport_inference_or_storage_assembly()
    {
        Assert.Empty(Violations(Common, [.. TransportPrefixes, "Microsoft.ML.OnnxRuntime", "FASTER", "BgeVectorDb.Core"]));
    }

    [Fact]
    public void Common_types_live_in_common_namespaces()
    {
        // The project's types in Common (compiler-emitted attributes aside) are under BgeVectorDb.Common, so a
        // namespace never spans two assemblies.
        var misplaced = Common.GetTypes()
            .Where(t => t.Namespace is { } ns && ns.StartsWith("BgeVectorDb.", StringComparison.Ordinal)
                && !ns.StartsWith("BgeVectorDb.Common.", StringComparison.Ordinal))
            .Select(t => t.FullName).ToList();
        Assert.Empty(misplaced);
        Assert.Equal("BgeVectorDb.Common.Models", typeof(ModelCatalog).Namespace);
    }

    [Fact]
    public void Cli_does_not_reference_core_onnx_runtime_or_faster()
    {
        Assert.Empty(Violations(Cli, ["BgeVectorDb.Core", "Microsoft.ML.OnnxRuntime", "FASTER"]));
    }

    [Fact]
    public void A_forbidden_reference_is_reported_with_its_path()
    {
        // The walker sees a reference that exists (Core uses Common), so the empty results above mean absent.
        var violations = Violations(Core, ["BgeVectorDb.Common"]);
        Assert.Equal(["BgeVectorDb.Core -> BgeVectorDb.Common"], violations);
    }

    [Fact]
    public void Core_index_and_storage_do_not_use_collections()
    {
        var violations = NamespaceDependencies.Violations(Core, ["BgeVectorDb.Core.Index", "BgeVectorDb.Core.Storage"], "BgeVectorDb.Core.Collections");
        Assert.True(violations.Count == 0, "Index/Storage use Collections types:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Only_mining_builds_on_collections()
    {
        // The collection sits on top of the engine: the building blocks below it never reach up to it (live recall
        // reruns through an interface of Telemetry; limits are a primitive).
        string[] below =
        [
            "BgeVectorDb.Core.Primitives", "BgeVectorDb.Core.Index", "BgeVectorDb.Core.Storage", "BgeVectorDb.Core.Search",
            "BgeVectorDb.Core.Embedding", "BgeVectorDb.Core.Inference", "BgeVectorDb.Core.Reranking", "BgeVectorDb.Core.Models",
            "BgeVectorDb.Core.Telemetry",
        ];
        var violations = NamespaceDependencies.Violations(Core, below, "BgeVectorDb.Core.Collections");
        Assert.True(violations.Count == 0, "building blocks use Collections types:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Telemetry_is_below_inference()
    {
        // Inference records into Telemetry's instruments; Telemetry knows nothing of the batcher.
        var violations = NamespaceDependencies.Violations(Core, ["BgeVectorDb.Core.Telemetry"], "BgeVectorDb.Core.Inference");
        Assert.True(violations.Count == 0, "Telemetry uses Inference types:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void A_forbidden_namespace_use_is_reported_with_the_using_type()
    {
        // Uses that exist: Collections builds on Index and Storage (fields, calls), so the empty result above means absent.
        var collections = NamespaceDependencies.Violations(Core, ["BgeVectorDb.Core.Collections"], "BgeVectorDb.Core.Index");
        Assert.Contains("BgeVectorDb.Core.Collections.Collection -> BgeVectorDb.Core.Index.Hnsw.HnswIndex", collections);
        Assert.Contains("BgeVectorDb.Core.Collections.Collection -> BgeVectorDb.Core.Storage.IWriteAheadLog",
            NamespaceDependencies.Violations(Core, ["BgeVectorDb.Core.Collections"], "BgeVectorDb.Core.Storage"));
        // A use only inside a lambda body (compiled into a nested closure type) counts for the outer type.
        Assert.Equal(["BgeVectorDb.Architecture.Tests.Fixtures.Lower.Part -> BgeVectorDb.Architecture.Tests.Fixtures.Upper.Widget"],
            NamespaceDependencies.Violations(typeof(Fixtures.Lower.Part).Assembly, ["BgeVectorDb.Architecture.Tests.Fixtures.Lower"],
                "BgeVectorDb.Architecture.Tests.Fixtures.Upper"));
    }

    /// <summary>References of <paramref name="root"/> and of the BgeVectorDb.* assemblies it reaches whose names
    /// start with one of <paramref name="forbidden"/>, as "A -> B -> C" paths.</summary>
    private static List<string> Violations(Assembly root, string[] forbidden)
    {
        var found = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<(Assembly Assembly, string Path)>([(root, root.GetName().Name!)]);
        while (queue.TryDequeue(out var item))
        {
            if (!seen.Add(item.Assembly.GetName().Name!)) continue;
            foreach (var reference in item.Assembly.GetReferencedAssemblies())
            {
                var name = reference.Name!;
                var path = item.Path + " -> " + name;
                if (forbidden.Any(f => name.StartsWith(f, StringComparison.Ordinal)))
                {
                    found.Add(path);
                }
                else if (name.StartsWith("BgeVectorDb.", StringComparison.Ordinal))
                {
                    queue.Enqueue((Assembly.Load(reference), path));
                }
            }
        }
        return found;
    }

    private static IEnumerable<string> References(Assembly assembly) => assembly.GetReferencedAssemblies().Select(a => a.Name!);
}
