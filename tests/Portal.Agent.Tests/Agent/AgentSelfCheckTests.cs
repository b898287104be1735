using Microsoft.Extensions.Logging.Abstractions;
using Portal.Contracts;
using Xunit;
using static TorchSharp.torch;

namespace Portal.Agent.Tests.Agent;

/// <summary>set_num_threads is process-wide: these tests change it, so they do not run beside other TorchSharp tests.</summary>
[CollectionDefinition(nameof(TorchThreads), DisableParallelization = true)]
public sealed class TorchThreads;

[Collection(nameof(TorchThreads))]
public sealed class AgentSelfCheckTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("portal-selfcheck-").FullName;
    private readonly TestPortal _portal = new();
    private readonly int _threadsBefore = get_num_threads();

    public Task InitializeAsync() => _portal.StartAsync();

    public async Task DisposeAsync()
    {
        set_num_threads(_threadsBefore);
        await _portal.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private AgentOptions Options(Func<int, string, Tensor, Tensor>? tamper) => new()
    {
        PortalUrl = _portal.Url, Token = "test-token", Name = "check-agent", DataDirectory = _data, Device = "cpu", TorchThreads = 2,
        ReconnectMinDelay = TimeSpan.FromMilliseconds(100), ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        JobPollInterval = TimeSpan.FromMilliseconds(200), NumericCheckTamper = tamper,
    };

    [Fact]
    public void The_real_check_passes_as_configured_and_keeps_the_configured_threads()
    {
        set_num_threads(2);

        var report = AgentSelfCheck.Run(CPU, NullLogger.Instance);

        Assert.Equal(NumericCheckStatus.Passed, report.Status);
        Assert.Equal("cpu, 2 threads", report.Configuration);
        Assert.Null(report.FailedOperation);
        Assert.StartsWith("Passed on cpu, 2 threads:", report.Summary);
        Assert.Equal(2, get_num_threads());
    }

    [Fact]
    public async Task An_agent_whose_check_fails_only_with_two_threads_trains_with_one_and_says_so()
    {
        await using var agent = await AgentHost.StartAsync(Options((threads, name, t) => threads > 1 && name == "batch_norm train: output" ? t * 1.5f : t));
        await agent.WaitUntilConnectedAsync();

        var hello = _portal.Data.Hellos.Last();
        Assert.Equal(NumericCheckStatus.PassedWithFallback, hello.NumericCheck!.Status);
        Assert.Equal("cpu, 1 thread (fallback)", hello.NumericCheck.Configuration);
        Assert.Equal("batch_norm train: output", hello.NumericCheck.FailedOperation);
        Assert.True(hello.NumericCheck.MaxAbsError > 0.1);
        Assert.Contains("With 2 threads batch_norm train: output", hello.NumericCheck.Summary);
        Assert.Equal(1, get_num_threads());
    }

    [Fact]
    public async Task An_agent_whose_check_fails_with_the_fallback_too_registers_says_why_and_takes_no_job()
    {
        _portal.Data.Queue.Enqueue(new JobAssignment(5, "classifier", "", 1, null));
        await using var agent = await AgentHost.StartAsync(Options((_, name, t) => name == "linear: weight grad" ? t + 1f : t));
        await agent.WaitUntilConnectedAsync();
        // Heartbeats come every second (TestPortal's welcome); an agent able to take jobs asks at once on registering.
        await Until(() => _portal.Data.Heartbeats >= 2, "two heartbeats");

        var check = _portal.Data.Hellos.Last().NumericCheck!;
        Assert.Equal(NumericCheckStatus.Failed, check.Status);
        Assert.Equal("linear: weight grad", check.FailedOperation);
        Assert.Contains("This agent takes no job.", check.Summary);
        Assert.Equal(0, _portal.Data.TakeJobCalls);
        Assert.Single(_portal.Data.Queue);
        Assert.Equal(2, get_num_threads());
    }

    private static async Task Until(Func<bool> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
