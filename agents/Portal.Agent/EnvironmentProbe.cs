using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Portal.Contracts;
using Portal.Training;
using static TorchSharp.torch;

namespace Portal.Agent;

/// <summary>The environment a run trains in, as the agent records it when it starts the run.</summary>
internal static class EnvironmentProbe
{
    /// <summary>The /proc/cpuinfo flags that decide which vectorised kernels libtorch and oneDNN pick.</summary>
    private static readonly string[] KernelFlagPrefixes = ["sse4_2", "avx", "fma", "f16c", "amx", "avx512", "avx_vnni"];

    public static RunEnvironment Describe(Device device, NumericCheckReport? numericCheck)
    {
        var (cpuModel, flags) = ReadCpuInfo();
        var cuda = device.type == TorchSharp.DeviceType.CUDA;
        var gpu = NvidiaSmi.Query();
        var agent = typeof(EnvironmentProbe).Assembly;
        return new RunEnvironment(
            cpuModel,
            flags,
            Environment.ProcessorCount,
            TorchRuntime.TorchVersion,
            TorchBuild(cuda),
            AtenString("_ZN2at18get_cpu_capabilityB5cxx11Ev") ?? "unknown",
            $"{OneDnnIsa()}; convolutions: {(CpuKernels.OneDnnEnabled ? "oneDNN" : CpuKernels.Configuration)}",
            AtenString("_ZN2at18get_mkldnn_versionB5cxx11Ev") ?? "unknown",
            get_num_threads(),
            get_num_interop_threads(),
            cuda ? "cuda" : "cpu",
            gpu?.Name,
            gpu?.Driver,
            gpu?.CudaVersion,
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            InformationalVersion(typeof(TorchSharp.torch).Assembly),
            agent.GetName().Version?.ToString() ?? "unknown",
            Commit(agent),
            numericCheck is null ? "not run" : $"{numericCheck.Status} ({numericCheck.Configuration})");
    }

    internal static (string Model, string Flags) ReadCpuInfo(string path = "/proc/cpuinfo")
    {
        string model = RuntimeInformation.ProcessArchitecture.ToString(), flags = "";
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var colon = line.IndexOf(':');
                if (colon < 0) continue;
                var key = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (key == "model name") model = value;
                else if (key == "flags")
                {
                    flags = string.Join(' ', value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Where(f => KernelFlagPrefixes.Any(p => f.StartsWith(p, StringComparison.Ordinal))).Order(StringComparer.Ordinal));
                    break; // every core reports the same; the model name comes before the flags
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return (model, flags);
    }

    /// <summary>
    /// oneDNN reads ONEDNN_MAX_CPU_ISA (or the older DNNL_MAX_CPU_ISA) from the process environment once, and
    /// libtorch offers no call that reports the ISA oneDNN then chose. The process's own start-up environment is
    /// what oneDNN saw (.NET's SetEnvironmentVariable does not reach native code on Linux).
    /// </summary>
    internal static string OneDnnIsa()
    {
        var environment = NativeEnvironment();
        foreach (var name in new[] { "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA" })
            if (environment.TryGetValue(name, out var value) && value.Length > 0) return $"{value} ({name})";
        return "default (the highest the CPU supports)";
    }

    private static Dictionary<string, string> NativeEnvironment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in File.ReadAllText("/proc/self/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = entry.IndexOf('=');
                if (eq > 0) result[entry[..eq]] = entry[(eq + 1)..];
            }
        }
        catch (IOException)
        {
            foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) result[(string)e.Key] = (string?)e.Value ?? "";
        }
        return result;
    }

    private static string TorchBuild(bool cudaAvailable)
    {
        if (cudaAvailable) return "CUDA";
        // A CUDA libtorch on a machine without a usable GPU still has its CUDA library loaded.
        try
        {
            if (File.ReadLines("/proc/self/maps").Any(l => l.Contains("libtorch_cuda", StringComparison.Ordinal))) return "CUDA (no usable GPU)";
        }
        catch (IOException) { }
        return "CPU";
    }

    /// <summary>
    /// Calls one of libtorch's <c>std::string at::...()</c> functions (what torch.__config__ reports), which TorchSharp
    /// does not wrap. On x86-64 Linux a returned std::string is written through a hidden first argument; with the
    /// C++11 ABI it is {char* data, size_t length, 16-byte inline buffer or capacity}.
    /// </summary>
    internal static unsafe string? AtenString(string symbol)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var library) || !NativeLibrary.TryGetExport(library, symbol, out var function)) return null;
        var buffer = stackalloc byte[32];
        ((delegate* unmanaged<byte*, void*>)function)(buffer);
        var data = *(byte**)buffer;
        var length = (int)*(long*)(buffer + 8);
        var text = Encoding(data, length);
        if (data != buffer + 16) Free(data); // heap-allocated by operator new, which is malloc in libstdc++
        return text;
    }

    private static unsafe string Encoding(byte* data, int length) => System.Text.Encoding.UTF8.GetString(data, length).Trim();

    [DllImport("libc", EntryPoint = "free")]
    private static extern unsafe void Free(void* pointer);

    private static string InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The commit the build embedded (AssemblyInformationalVersion "1.0.0+&lt;sha&gt;"), or "unknown".</summary>
    internal static string Commit(Assembly assembly)
    {
        var version = InformationalVersion(assembly);
        var plus = version.IndexOf('+');
        return plus >= 0 && plus < version.Length - 1 ? version[(plus + 1)..] : "unknown";
    }

    /// <summary>nvidia-smi, where installed: the first GPU's name, the driver and the CUDA version the driver supports.</summary>
    internal static class NvidiaSmi
    {
        public sealed record Gpu(string Name, string Driver, string? CudaVersion);

        public static Gpu? Query()
        {
            var query = Run("--query-gpu=name,driver_version --format=csv,noheader");
            var parts = query?.Split('\n')[0].Split(',', StringSplitOptions.TrimEntries);
            if (parts is not { Length: 2 }) return null;
            var header = Run("") ?? "";
            var at = header.IndexOf("CUDA Version:", StringComparison.Ordinal);
            string? cuda = at < 0 ? null : header[(at + 13)..].Trim().Split(' ', '|')[0];
            return new Gpu(parts[0], parts[1], string.IsNullOrEmpty(cuda) ? null : cuda);
        }

        private static string? Run(string arguments)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo("nvidia-smi", arguments)
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                });
                if (process is null) return null;
                var output = process.StandardOutput.ReadToEnd();
                return process.WaitForExit(10_000) && process.ExitCode == 0 ? output : null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null; // no nvidia-smi on this machine
            }
        }
    }
}
