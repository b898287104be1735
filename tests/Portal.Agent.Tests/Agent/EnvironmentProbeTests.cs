using System.Text.RegularExpressions;
using Portal.Contracts;
using Xunit;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Agent;

public sealed class EnvironmentProbeTests
{
    [Fact]
    public void The_environment_record_names_this_machines_cpu_libtorch_threads_and_the_agents_build()
    {
        var check = new NumericCheckReport(NumericCheckStatus.Passed, "cpu, 2 threads", null, null, null, "Passed.", 1.5);

        var env = EnvironmentProbe.Describe(CPU, check);

        var cpuinfo = File.ReadAllText("/proc/cpuinfo");
        Assert.Contains(env.CpuModel, cpuinfo);
        var flags = env.CpuFlags.Split(' ');
        if (Regex.IsMatch(cpuinfo, @"\bavx2\b")) Assert.Contains("avx2", flags);
        if (Regex.IsMatch(cpuinfo, @"\bavx512f\b")) Assert.Contains("avx512f", flags);
        Assert.DoesNotContain("fpu", flags);
        Assert.Equal(Environment.ProcessorCount, env.CpuCores);
        Assert.Equal(__version__, env.TorchVersion);
        Assert.Equal("CPU", env.TorchBuild);
        Assert.Matches("^(DEFAULT|AVX2|AVX512|ZVECTOR|VSX|SVE.*)$", env.AtenCpuCapability);
        Assert.Contains("DNN v", env.OneDnnVersion);
        var isa = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA");
        Assert.StartsWith(string.IsNullOrEmpty(isa) ? "default (the highest the CPU supports)" : $"{isa} (ONEDNN_MAX_CPU_ISA)", env.OneDnnIsa);
        // Which kernels CPU convolutions run on is part of the record (docs/decisions/0007).
        Assert.EndsWith($"convolutions: {(Portal.Training.CpuKernels.OneDnnEnabled ? "oneDNN" : Portal.Training.CpuKernels.Configuration)}", env.OneDnnIsa);
        Assert.Equal(get_num_threads(), env.IntraOpThreads);
        Assert.Equal(get_num_interop_threads(), env.InterOpThreads);
        Assert.Equal("cpu", env.Device);
        Assert.StartsWith(".NET 10", env.DotNetVersion);
        Assert.StartsWith("0.107", env.TorchSharpVersion);
        Assert.Matches("^([0-9a-f]{40}|unknown)$", env.AgentCommit);
        Assert.Equal("Passed (cpu, 2 threads)", env.NumericCheck);
    }

    [Fact]
    public void The_agent_is_built_with_the_commit_of_its_checkout()
    {
        var commit = EnvironmentProbe.Commit(typeof(AgentHost).Assembly);

        // The tests run from a git checkout, so the build found one.
        Assert.Matches("^[0-9a-f]{40}$", commit);
    }

    [Fact]
    public void Cpu_flags_keep_only_those_that_choose_kernels()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse2 sse4_2 avx avx2 fma avx512f avx512_bf16 amx_tile ht\n");
        try
        {
            var (model, flags) = EnvironmentProbe.ReadCpuInfo(file);
            Assert.Equal("Test CPU 9000", model);
            Assert.Equal("amx_tile avx avx2 avx512_bf16 avx512f fma sse4_2", flags);
        }
        finally { File.Delete(file); }
    }
}
