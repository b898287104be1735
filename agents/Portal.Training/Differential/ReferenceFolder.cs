using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Portal.Training.Differential;

/// <summary>The comparison cannot run on this input; the message says why and what to do.</summary>
public class DifferentialException(string message) : Exception(message);

/// <summary>The reference folder cannot be used.</summary>
public sealed class ReferenceException(string message) : DifferentialException(message);

/// <summary>manifest.json as the reference script writes it.</summary>
public sealed record ReferenceManifest
{
    public string Recipe { get; init; } = "";
    public string Framework { get; init; } = "";
    public int InputSize { get; init; }
    public int Batch { get; init; }
    public int Classes { get; init; }
    public int Seed { get; init; }
    public double[][] Anchors { get; init; } = [];
    public double BatchNormEpsilon { get; init; }
    public double BatchNormMomentum { get; init; }
    public double LeakySlope { get; init; }
    public string Mode { get; init; } = "";
    public double Loss { get; init; }
    public string[] Layers { get; init; } = [];
    public string[] Parameters { get; init; } = [];
    public string[] Buffers { get; init; } = [];
    public RoundingErrors Rounding { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
}

/// <summary>Per tensor, how far the reference's own float32 result is from the same computation in float64.</summary>
public sealed record RoundingErrors
{
    public Dictionary<string, double> Layers { get; init; } = [];
    public Dictionary<string, double> Gradients { get; init; } = [];
    public Dictionary<string, double> Buffers { get; init; } = [];
}

/// <summary>
/// What the reference script wrote, read and checked: every file present, a state_dict (not a pickled model),
/// float32 tensors (the step counters int64), nothing NaN or infinite, and the manifest's names all present.
/// </summary>
public sealed class ReferenceFolder : IDisposable
{
    public static readonly string[] Files = ["manifest.json", "state_dict.pt", "inputs.pt", "layers.pt", "grads.pt", "buffers.pt"];

    private ReferenceFolder(string directory, ReferenceManifest manifest, Dictionary<string, Tensor> stateDict,
        Dictionary<string, Tensor> inputs, Dictionary<string, Tensor> layers, Dictionary<string, Tensor> gradients, Dictionary<string, Tensor> buffers)
    {
        Directory = directory;
        Manifest = manifest;
        StateDict = stateDict;
        Images = inputs["images"];
        Targets = inputs["targets"];
        Layers = layers;
        Gradients = gradients;
        Buffers = buffers;
    }

    public string Directory { get; }
    public ReferenceManifest Manifest { get; }
    public IReadOnlyDictionary<string, Tensor> StateDict { get; }
    public Tensor Images { get; }
    public Tensor Targets { get; }
    public IReadOnlyDictionary<string, Tensor> Layers { get; }
    public IReadOnlyDictionary<string, Tensor> Gradients { get; }
    public IReadOnlyDictionary<string, Tensor> Buffers { get; }

    public static ReferenceFolder Load(string directory, IReadOnlyCollection<string> knownRecipes)
    {
        if (!System.IO.Directory.Exists(directory)) throw new ReferenceException($"The reference folder {directory} does not exist.");
        var missing = Files.Where(f => !File.Exists(Path.Combine(directory, f))).ToList();
        if (missing.Count > 0)
            throw new ReferenceException($"The reference folder {directory} lacks {string.Join(", ", missing)}: run the reference script " +
                "(python3 agents/reference/yolov4_tiny.py --out DIR) and use the folder it wrote.");

        ReferenceManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ReferenceManifest>(File.ReadAllText(Path.Combine(directory, "manifest.json")), ReferenceManifest.Json)
                ?? throw new ReferenceException("manifest.json is null.");
        }
        catch (JsonException e)
        {
            throw new ReferenceException($"manifest.json is not valid: {e.Message}");
        }
        if (!knownRecipes.Contains(manifest.Recipe))
            throw new ReferenceException($"The reference is for recipe '{manifest.Recipe}', which has no differential comparison (known: {string.Join(", ", knownRecipes)}).");
        if (manifest.InputSize < 64 || manifest.InputSize % 32 != 0 || manifest.Classes < 1 || manifest.Batch < 1)
            throw new ReferenceException($"manifest.json holds an input size {manifest.InputSize}, batch {manifest.Batch} and {manifest.Classes} classes that no model of this recipe takes.");

        var stateDict = ReadTensors(directory, "state_dict.pt");
        var inputs = ReadTensors(directory, "inputs.pt");
        var layers = ReadTensors(directory, "layers.pt");
        var gradients = ReadTensors(directory, "grads.pt");
        var buffers = ReadTensors(directory, "buffers.pt");
        var folder = new ReferenceFolder(directory, manifest, stateDict, Require(inputs, "inputs.pt", ["images", "targets"]),
            layers, gradients, buffers);
        try
        {
            Require(layers, "layers.pt", manifest.Layers);
            Require(gradients, "grads.pt", manifest.Parameters);
            Require(buffers, "buffers.pt", manifest.Buffers);
            foreach (var (file, set) in new[] { ("state_dict.pt", stateDict), ("inputs.pt", inputs), ("layers.pt", layers), ("grads.pt", gradients), ("buffers.pt", buffers) })
                foreach (var (name, t) in set) CheckTensor(file, name, t);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
        return folder;
    }

    private static Dictionary<string, Tensor> Require(Dictionary<string, Tensor> set, string file, IEnumerable<string> names)
    {
        var absent = names.Where(n => !set.ContainsKey(n)).ToList();
        if (absent.Count > 0) throw new ReferenceException($"{file} lacks {absent.Count} tensor(s) the manifest names: {string.Join(", ", absent.Take(5))}.");
        return set;
    }

    private static void CheckTensor(string file, string name, Tensor t)
    {
        var counter = name.EndsWith("num_batches_tracked", StringComparison.Ordinal);
        var expected = counter ? ScalarType.Int64 : ScalarType.Float32;
        if (t.dtype != expected)
            throw new ReferenceException($"{file}: '{name}' is {t.dtype}, not {expected}. The comparison is of float32 implementations; " +
                "write the reference in float32 (model.float()).");
        if (!counter && t.numel() > 0 && !t.isfinite().all().item<bool>())
            throw new ReferenceException($"{file}: '{name}' holds NaN or infinite values, so nothing can be compared against it. " +
                "Rerun the reference (with --threads 1 if its CPU misbehaves).");
    }

    private static Dictionary<string, Tensor> ReadTensors(string directory, string file)
    {
        var path = Path.Combine(directory, file);
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (NotImplementedException e) when (e.Message.Contains("entire model", StringComparison.Ordinal))
        {
            throw new ReferenceException($"{file} holds a whole pickled model, not a state_dict: save it with torch.save(model.state_dict(), path).");
        }
        catch (Exception e) when (e is not ReferenceException)
        {
            throw new ReferenceException($"{file} is not a torch.save file of a dict of tensors ({e.GetType().Name}: {e.Message}).");
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string key || entry.Value is not Tensor t)
                throw new ReferenceException($"{file} holds an entry '{entry.Key}' that is not a named tensor: it must be a dict of tensors.");
            result[key] = t;
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var set in new[] { StateDict, Layers, Gradients, Buffers })
            foreach (var t in set.Values) t.Dispose();
        Images.Dispose();
        Targets.Dispose();
    }
}
