using System.Diagnostics;
using System.Globalization;
using Portal.Training;
using Portal.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Benchmarks.Training;

/// <summary>
/// What turning oneDNN off for CPU convolutions costs (docs/decisions/0007): ms per training step of the recipes'
/// models with oneDNN's kernels and with ATen's, measured alternately in one process so both see the same load,
/// and whether the loss stayed finite. Options: --steps 30 --warmup 5 --rounds 3 --threads N.
/// </summary>
public sealed class CpuConvolutionBenchmark : IBenchmark
{
    public string Name => "cpu-convolutions";
    public string Description => "ms per CPU training step with oneDNN convolutions against ATen's, side by side";

    public Task<int> RunAsync(string[] args)
    {
        int Option(string name, int fallback) =>
            Array.IndexOf(args, "--" + name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        var steps = Option("steps", 30);
        var warmup = Option("warmup", 5);
        var rounds = Option("rounds", 3);
        set_num_threads(Option("threads", Environment.ProcessorCount));
        Console.WriteLine($"libtorch {torch.__version__}, {get_num_threads()} threads, {Environment.ProcessorCount} cores, CPU {CpuModel()}");

        (string Name, Func<nn.Module<Tensor, Tensor>> Build, int Batch, int Size)[] models =
        [
            ("classifier width 16", () => new SmallResNet(4, 16), 64, 32),
            ("classifier width 8", () => new SmallResNet(4, 8), 32, 32),
            ("detector width 16", () => new TinyYolo(3, 2, 16), 32, 64),
        ];
        foreach (var model in models)
        {
            var times = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
            var finite = new Dictionary<bool, bool> { [true] = true, [false] = true };
            for (var round = 0; round < rounds; round++)
            {
                foreach (var oneDnn in new[] { true, false })
                {
                    CpuKernels.SetOneDnn(oneDnn);
                    var (ms, lossFinite) = Time(model.Build, model.Batch, model.Size, steps, warmup);
                    times[oneDnn].Add(ms);
                    finite[oneDnn] &= lossFinite;
                }
            }
            string Row(bool oneDnn) => $"{string.Join(" / ", times[oneDnn].Select(t => t.ToString("F1", CultureInfo.InvariantCulture)))} ms (median {Median(times[oneDnn]):F1}), loss finite: {finite[oneDnn]}";
            Console.WriteLine($"{model.Name,-20} oneDNN {Row(true)}");
            Console.WriteLine($"{"",-20} ATen   {Row(false)}   ratio ATen/oneDNN {Median(times[false]) / Median(times[true]):F2}");
        }
        CpuKernels.UseAtenConvolutions();
        return Task.FromResult(0);
    }

    private static (double Ms, bool Finite) Time(Func<nn.Module<Tensor, Tensor>> build, int batch, int size, int steps, int warmup)
    {
        torch.manual_seed(1);
        using var net = build();
        net.train();
        using var input = torch.rand(batch, 3, size, size);
        using var optimizer = torch.optim.Adam(net.parameters(), 0.003);
        var finite = true;
        var clock = new Stopwatch();
        for (var i = 0; i < warmup + steps; i++)
        {
            if (i == warmup) clock.Start();
            using var scope = NewDisposeScope();
            var output = net.call(input);
            // A loss that depends on every output; its value matters only for finiteness.
            var loss = output.square().mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            finite &= float.IsFinite(loss.item<float>());
        }
        return (clock.Elapsed.TotalMilliseconds / steps, finite);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";
}
