using System.Diagnostics;
using System.Runtime.InteropServices;
using Portal.Contracts;
using Portal.Training;

namespace Portal.Agent;

/// <summary>What the agent trains on, as it reports it at registration.</summary>
internal static class HardwareProbe
{
    public static AgentHardware Describe(bool cudaAvailable)
    {
        string? gpuName = null;
        long? gpuMemory = null;
        if (cudaAvailable && QueryNvidiaSmi() is { } gpu) (gpuName, gpuMemory) = gpu;
        if (cudaAvailable) gpuName ??= "CUDA device";
        return new AgentHardware(
            Environment.ProcessorCount,
            TotalMemoryBytes(),
            gpuName,
            gpuMemory,
            cudaAvailable,
            TorchRuntime.TorchVersion,
            RuntimeInformation.OSDescription);
    }

    private static long TotalMemoryBytes()
    {
        // /proc/meminfo is the machine's memory; the GC's figure can be a container limit, which is also fair to report.
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (line is not null) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>TorchSharp has no device-name API; nvidia-smi, where installed, names the first GPU and its memory.</summary>
    private static (string Name, long MemoryBytes)? QueryNvidiaSmi()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name,memory.total --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (process is null) return null;
            var first = process.StandardOutput.ReadLine();
            process.WaitForExit(5000);
            var parts = first?.Split(',', StringSplitOptions.TrimEntries);
            if (parts is not { Length: 2 } || !long.TryParse(parts[1], out var mib)) return null;
            return (parts[0], mib * 1024 * 1024);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no nvidia-smi on this machine
        }
    }
}
