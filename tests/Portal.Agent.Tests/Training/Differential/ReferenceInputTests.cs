using Portal.Training.Differential;
using Portal.Training.Models;
using Xunit;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Training.Differential;

[Collection(nameof(ReferenceCollection))]
public sealed class ReferenceInputTests(ReferenceFixture reference) : IDisposable
{
    private static readonly string[] Recipes = [DifferentialComparison.Recipe];
    private readonly string _work = Directory.CreateTempSubdirectory("portal-diff-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static Dictionary<string, Tensor> StateOf(ReferenceFolder folder) => folder.StateDict.ToDictionary(kv => kv.Key, kv => kv.Value);

    [Fact]
    public void The_mapping_refuses_a_missing_tensor_by_name()
    {
        using var folder = ReferenceFolder.Load(reference.Directory, Recipes);
        using var model = new Yolov4Tiny(new Yolov4TinyOptions { Classes = 3 });
        var state = StateOf(folder);
        state.Remove("block2.conv3.bn.running_var");

        var e = Assert.Throws<MappingException>(() => Yolov4TinyMapping.Load(model, state));

        Assert.Contains("the reference has no tensor 'block2.conv3.bn.running_var' (for our 'backbone.block2.conv3.bn.running_var')", e.Message);
    }

    [Fact]
    public void The_mapping_refuses_an_extra_tensor_by_name()
    {
        using var folder = ReferenceFolder.Load(reference.Directory, Recipes);
        using var model = new Yolov4Tiny(new Yolov4TinyOptions { Classes = 3 });
        var state = StateOf(folder);
        state["head32_out.extra.weight"] = zeros(3);

        var e = Assert.Throws<MappingException>(() => Yolov4TinyMapping.Load(model, state));

        Assert.Contains("the reference tensor 'head32_out.extra.weight' is not in the mapping", e.Message);
    }

    [Fact]
    public void The_mapping_refuses_a_misshapen_tensor_and_copies_nothing()
    {
        using var folder = ReferenceFolder.Load(reference.Directory, Recipes);
        using var model = new Yolov4Tiny(new Yolov4TinyOptions { Classes = 3 });
        var before = model.state_dict()["backbone.stem0.conv.weight"].clone();
        var state = StateOf(folder);
        state["conv1.conv.weight"] = zeros(64, 32, 1, 1);

        var e = Assert.Throws<MappingException>(() => Yolov4TinyMapping.Load(model, state));

        Assert.Contains("'conv1.conv.weight' has shape [64, 32, 1, 1] in the reference but our 'backbone.stem1.conv.weight' is [64, 32, 3, 3]", e.Message);
        Assert.True(model.state_dict()["backbone.stem0.conv.weight"].equal(before).all().item<bool>(), "a refused mapping must not copy part of the weights");
    }

    [Fact]
    public void The_mapping_takes_every_reference_tensor_once_and_fills_every_tensor_of_ours()
    {
        using var folder = ReferenceFolder.Load(reference.Directory, Recipes);
        using var model = new Yolov4Tiny(new Yolov4TinyOptions { Classes = 3 });

        Yolov4TinyMapping.Load(model, folder.StateDict);

        Assert.Equal(folder.StateDict.Count, Yolov4TinyMapping.Tensors.Count);
        Assert.Equal(model.state_dict().Count, Yolov4TinyMapping.Tensors.Select(t => t.TorchSharp).Distinct().Count());
        foreach (var (theirs, ours) in Yolov4TinyMapping.Tensors)
            Assert.True(model.state_dict()[ours].reshape(-1).equal(folder.StateDict[theirs].reshape(-1)).all().item<bool>(), ours);
    }

    [Fact]
    public void A_folder_missing_files_is_refused_with_their_names()
    {
        var copy = reference.Copy(_work);
        File.Delete(Path.Combine(copy, "grads.pt"));
        File.Delete(Path.Combine(copy, "layers.pt"));

        var e = Assert.Throws<ReferenceException>(() => ReferenceFolder.Load(copy, Recipes));

        Assert.Contains("lacks layers.pt, grads.pt", e.Message);
    }

    [Fact]
    public void A_pickled_whole_model_instead_of_a_state_dict_is_refused()
    {
        var copy = reference.Copy(_work);
        PyTorchReference.Snippet("torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)), sys.argv[1])", Path.Combine(copy, "state_dict.pt"));

        var e = Assert.Throws<ReferenceException>(() => ReferenceFolder.Load(copy, Recipes));

        Assert.Contains("state_dict.pt holds a whole pickled model, not a state_dict", e.Message);
    }

    [Fact]
    public void Tensors_of_another_dtype_are_refused()
    {
        var copy = reference.Copy(_work);
        var path = Path.Combine(copy, "state_dict.pt");
        PyTorchReference.Snippet("s = torch.load(sys.argv[1])\ntorch.save({k: (v.double() if v.is_floating_point() else v) for k, v in s.items()}, sys.argv[1])", path);

        var e = Assert.Throws<ReferenceException>(() => ReferenceFolder.Load(copy, Recipes));

        Assert.Contains("is Float64, not Float32", e.Message);
    }

    [Fact]
    public void NaN_in_the_reference_is_refused_with_the_tensor_named()
    {
        var copy = reference.Copy(_work);
        var path = Path.Combine(copy, "layers.pt");
        PyTorchReference.Snippet("s = torch.load(sys.argv[1])\ns['block1.conv2.bn'][0, 0, 0, 0] = float('nan')\ntorch.save(s, sys.argv[1])", path);

        var e = Assert.Throws<ReferenceException>(() => ReferenceFolder.Load(copy, Recipes));

        Assert.Contains("layers.pt: 'block1.conv2.bn' holds NaN or infinite values", e.Message);
    }

    [Fact]
    public void A_reference_for_an_unknown_recipe_is_refused()
    {
        var copy = reference.Copy(_work);
        var manifest = Path.Combine(copy, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"yolov4-tiny\"", "\"yolov9\"", StringComparison.Ordinal));

        var e = Assert.Throws<ReferenceException>(() => ReferenceFolder.Load(copy, Recipes));

        Assert.Contains("recipe 'yolov9', which has no differential comparison", e.Message);
    }

    [Fact]
    public void The_compare_command_exits_0_when_all_agree_1_on_a_fault_and_2_on_bad_input()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var agree = Portal.Agent.CompareCommand.Run(["compare", "--recipe", "yolov4-tiny", "--reference", reference.Directory, "--json"], output, error);
        var json = output.ToString();
        var fault = Portal.Agent.CompareCommand.Run(["compare", "--recipe", "yolov4-tiny", "--reference", reference.Directory, "--plant", "bn-eps"], new StringWriter(), error);
        var unknown = Portal.Agent.CompareCommand.Run(["compare", "--recipe", "yolov9", "--reference", reference.Directory], new StringWriter(), error);
        var missing = Portal.Agent.CompareCommand.Run(["compare", "--recipe", "yolov4-tiny", "--reference", Path.Combine(_work, "nothing")], new StringWriter(), error);

        Assert.Equal((0, 1, 2, 2), (agree, fault, unknown, missing));
        var report = ReportFormat.FromJson(json);
        Assert.True(report.Passed);
        Assert.Equal(178, report.Layers.Count);
        Assert.Contains("Unknown recipe 'yolov9'", error.ToString());
        Assert.Contains("does not exist", error.ToString());
    }
}
