using Microsoft.Extensions.Options;

namespace Portal.Agent;

/// <summary>Short command-line switches mapped to the "Agent" configuration section.</summary>
public static class AgentCommandLine
{
    public static readonly IDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--portal"] = "Agent:PortalUrl",
        ["--token"] = "Agent:Token",
        ["--name"] = "Agent:Name",
        ["--data"] = "Agent:DataDirectory",
        ["--max-jobs"] = "Agent:MaxConcurrentJobs",
        ["--device"] = "Agent:Device",
        ["--libtorch"] = "Agent:LibTorchPath",
        ["--threads"] = "Agent:TorchThreads",
        ["--python"] = "Agent:Python",
    };
}

/// <summary>Runs one <see cref="AgentHost"/> for the lifetime of the service.</summary>
internal sealed class AgentWorker(IOptions<AgentOptions> options, ILoggerFactory loggerFactory, IHostApplicationLifetime lifetime) : IHostedService
{
    private AgentHost? _host;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _host = await AgentHost.StartAsync(options.Value, loggerFactory);
        }
        catch (ArgumentException e)
        {
            loggerFactory.CreateLogger<AgentWorker>().LogCritical("{Message}", e.Message);
            Environment.ExitCode = 2;
            lifetime.StopApplication();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => _host?.StopAsync() ?? Task.CompletedTask;
}
