using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Portal.Training;
using Portal.Training.Models;
using Portal.Training.Recipes;
using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Benchmarks.Training;

/// <summary>
/// Time per training step of the recipes' models in TorchSharp against the same models in PyTorch (same shapes,
/// threads, device, optimizer), as a ratio. The PyTorch side is Training/torch_reference.py run as a child process.
/// Options: --model classifier|detector|both  --steps 50  --warmup 10  --threads N  --device cpu|cuda
///          --libtorch DIR (an installed PyTorch's torch/lib)  --python /usr/bin/python3  --recipe-steps N (also
///          train the real detector recipe N steps and print its AP)  --json FILE (write the results).
/// </summary>
public sealed class TrainingBenchmark : IBenchmark
{
    public string Name => "training";
    public string Description => "ms per training step, TorchSharp vs PyTorch, classifier and detector models";

    public async Task<int> RunAsync(string[] args)
    {
        var options = Parse(args);
        var libtorch = options.GetValueOrDefault("libtorch") ?? TorchRuntime.LibTorchFromEnvironment();
        if (libtorch is not null) TorchRuntime.UseLibTorchFrom(libtorch);
        var threads = int.Parse(options.GetValueOrDefault("threads") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var steps = int.Parse(options.GetValueOrDefault("steps") ?? "50", CultureInfo.InvariantCulture);
        var warmup = int.Parse(options.GetValueOrDefault("warmup") ?? "10", CultureInfo.InvariantCulture);
        var device = TorchRuntime.ResolveDevice(options.GetValueOrDefault("device") ?? "cpu");
        var python = options.GetValueOrDefault("python") ?? "/usr/bin/python3";
        var which = options.GetValueOrDefault("model") ?? "both";
        set_num_threads(threads);

        Console.WriteLine($"TorchSharp libtorch {torch.__version__}, device {device.type}, threads {threads}, CUDA available {torch.cuda.is_available()}, {Environment.ProcessorCount} cores");
        var results = new List<Dictionary<string, object>>();
        foreach (var model in which == "both" ? new[] { "classifier", "detector" } : [which])
        {
            var sharp = TimeTorchSharp(model, device, steps, warmup);
            var torchPy = RunPyTorch(python, model, device.type == DeviceType.CUDA ? "cuda" : "cpu", steps, warmup, threads);
            var ratio = torchPy is { } py ? sharp / py.MsPerStep : double.NaN;
            Console.WriteLine($"{model,-10} batch {BatchOf(model),3}: TorchSharp {sharp,8:F2} ms/step   PyTorch {(torchPy?.MsPerStep ?? double.NaN),8:F2} ms/step ({torchPy?.Version ?? "n/a"})   ratio {ratio:F3}");
            results.Add(new() { ["model"] = model, ["device"] = device.type.ToString(), ["threads"] = threads, ["steps"] = steps, ["torchsharp_ms"] = sharp, ["pytorch_ms"] = torchPy?.MsPerStep ?? -1, ["pytorch_version"] = torchPy?.Version ?? "", ["ratio"] = ratio });
        }

        if (options.GetValueOrDefault("recipe-steps") is { } recipeSteps)
            results.Add(RunRecipe(device, int.Parse(recipeSteps, CultureInfo.InvariantCulture)));

        if (options.GetValueOrDefault("json") is { } jsonPath)
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static int BatchOf(string model) => model == "classifier" ? 64 : 32;

    /// <summary>Mean ms of forward, loss, backward and Adam step on a fixed random batch; one sync at the end.</summary>
    private static double TimeTorchSharp(string model, Device device, int steps, int warmup)
    {
        torch.manual_seed(1);
        var batch = BatchOf(model);
        nn.Module<Tensor, Tensor> net = model == "classifier" ? new SmallResNet(4, 16) : new TinyYolo(3, 2, 16);
        net.to(device);
        net.train();
        using var input = model == "classifier" ? torch.rand(batch, 3, 32, 32, device: device) : torch.rand(batch, 3, 64, 64, device: device);
        using var labels = torch.randint(0, 4, [batch], device: device);
        using var target = torch.rand([batch, 2, 8, 8, 8], device: device);
        using var optimizer = torch.optim.Adam(net.parameters(), 0.001);

        double Run(int count)
        {
            var clock = Stopwatch.StartNew();
            float last = 0;
            for (var i = 0; i < count; i++)
            {
                using var scope = NewDisposeScope();
                var output = net.call(input);
                var loss = model == "classifier"
                    ? nn.functional.cross_entropy(output, labels)
                    : nn.functional.binary_cross_entropy_with_logits(output.select(-1, 4), target.select(-1, 4)) + nn.functional.mse_loss(output, target);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                if (i == count - 1) last = loss.item<float>(); // waits for the device, like the PyTorch side
            }
            _ = last;
            return clock.Elapsed.TotalMilliseconds / count;
        }

        Run(warmup);
        var result = Run(steps);
        net.Dispose();
        return result;
    }

    private sealed record PyResult(double MsPerStep, string Version);

    private static PyResult? RunPyTorch(string python, string model, string device, int steps, int warmup, int threads)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Training", "torch_reference.py");
        var start = new ProcessStartInfo(python, [script, "--model", model, "--device", device, "--steps", steps.ToString(CultureInfo.InvariantCulture), "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // The child must load its own libtorch, not one this process was pointed at.
        start.Environment.Remove("LD_LIBRARY_PATH");
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            var line = output.Split('\n').LastOrDefault(l => l.StartsWith('{'));
            if (process.ExitCode != 0 || line is null)
            {
                Console.WriteLine($"PyTorch side failed ({process.ExitCode}): {error.Trim()}");
                return null;
            }
            using var json = JsonDocument.Parse(line);
            return new PyResult(json.RootElement.GetProperty("ms_per_step").GetDouble(), json.RootElement.GetProperty("torch").GetString() ?? "");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"PyTorch side not run: {python}: {e.Message}");
            return null;
        }
    }

    /// <summary>The real detector recipe (data, YOLO loss, evaluation) on the device, as an agent would run it.</summary>
    private static Dictionary<string, object> RunRecipe(Device device, int steps)
    {
        var work = Directory.CreateTempSubdirectory("portal-bench-").FullName;
        var config = $$"""{"steps": {{steps}}, "evalEvery": {{Math.Max(1, steps / 4)}}, "checkpointEvery": {{steps}}, "logEvery": {{Math.Max(1, steps / 4)}}}""";
        using var run = RecipeCatalog.CreateRun(RecipeCatalog.Detector, config, 7, device);
        var sink = new ConsoleSink();
        var clock = Stopwatch.StartNew();
        var result = run.Train(new TrainingOptions(work), sink, CancellationToken.None);
        var seconds = clock.Elapsed.TotalSeconds;
        Directory.Delete(work, true);
        Console.WriteLine($"detector recipe: {steps} steps in {seconds:F1} s (evaluations included), AP50 {result.FinalMetrics["AP50"]:F3}, AP {result.FinalMetrics["AP"]:F3}");
        return new() { ["model"] = "detector-recipe", ["device"] = device.type.ToString(), ["steps"] = steps, ["seconds"] = seconds, ["AP50"] = result.FinalMetrics["AP50"], ["AP"] = result.FinalMetrics["AP"], ["eval_AP"] = sink.AP };
    }

    private sealed class ConsoleSink : ITrainingSink
    {
        public List<double> AP { get; } = [];
        public void ReportMetrics(IReadOnlyList<MetricSample> points) => AP.AddRange(points.Where(p => p.Name == "eval/AP").Select(p => p.Value));
        public void Log(string line) => Console.WriteLine("  " + line);
        public void CheckpointSaved(long step, string path) { }
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var result = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2) result[args[i].TrimStart('-')] = args[i + 1];
        return result;
    }
}
