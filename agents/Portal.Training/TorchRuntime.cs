using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Portal.Training;

/// <summary>Process-wide libtorch set-up: which native libtorch to use, threads, and the device to train on.</summary>
public static class TorchRuntime
{
    /// <summary>Environment variable naming a PyTorch installation's torch/lib folder to use as libtorch.</summary>
    public const string LibTorchEnvironmentVariable = "PORTAL_AGENT_LIBTORCH";

    private static readonly object Gate = new();
    private static string? _loadedFrom;

    /// <summary>
    /// Loads libtorch from an installed PyTorch (its torch/lib folder) before TorchSharp's first call. The loader
    /// reads LD_LIBRARY_PATH only at process start, so the libraries are loaded here by full path, dependencies
    /// first; TorchSharp's own by-name loads then find them already in the process.
    /// </summary>
    public static void UseLibTorchFrom(string torchLibDirectory)
    {
        lock (Gate)
        {
            if (_loadedFrom == torchLibDirectory) return;
            if (_loadedFrom is not null) throw new InvalidOperationException($"libtorch was already loaded from {_loadedFrom}.");
            if (!Directory.Exists(torchLibDirectory)) throw new DirectoryNotFoundException($"libtorch folder {torchLibDirectory} does not exist.");
            string[] order = ["libgomp.so.1", "libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so"];
            var found = false;
            foreach (var name in order)
            {
                // PyTorch wheels ship some dependencies under hashed names (libgomp-a34b3233.so.1); take any match.
                var path = Path.Combine(torchLibDirectory, name);
                if (!File.Exists(path))
                    path = Directory.EnumerateFiles(torchLibDirectory, Path.GetFileNameWithoutExtension(name.Split('.')[0]) + "-*").FirstOrDefault() ?? "";
                if (path.Length == 0 || !File.Exists(path)) continue;
                NativeLibrary.Load(path);
                found |= name == "libtorch.so";
            }
            if (!found) throw new FileNotFoundException($"{torchLibDirectory} holds no libtorch.so.");
            _loadedFrom = torchLibDirectory;
        }
    }

    /// <summary>The libtorch folder from the environment, if set.</summary>
    public static string? LibTorchFromEnvironment() =>
        Environment.GetEnvironmentVariable(LibTorchEnvironmentVariable) is { Length: > 0 } dir ? dir : null;

    /// <summary>
    /// Picks the device once: "cuda" demands CUDA, "cpu" forces the CPU, "auto" takes CUDA when libtorch offers it.
    /// </summary>
    public static Device ResolveDevice(string preference = "auto")
    {
        switch (preference.ToLowerInvariant())
        {
            case "cpu":
                return CPU;
            case "cuda":
                if (!torch.cuda.is_available()) throw new InvalidOperationException("CUDA was asked for, but this libtorch sees no CUDA device.");
                return CUDA;
            case "auto":
                return torch.cuda.is_available() ? CUDA : CPU;
            default:
                throw new ArgumentException($"Unknown device '{preference}': use auto, cpu or cuda.", nameof(preference));
        }
    }

    public static string TorchVersion => torch.__version__;
}
