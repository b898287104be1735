namespace Portal.Agent;

/// <summary>
/// Settings of one agent. Bound from the "Agent" configuration section (appsettings.json, PORTAL_AGENT_ environment
/// variables, command line --portal --token --name --data --libtorch --device --max-jobs), or built in code for tests.
/// </summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>
    /// Base URL of the portal, e.g. https://portal.example:5001; or several instances' URLs separated by commas, in
    /// which case the agent moves to the next one when the one it uses goes away (its outbox goes along).
    /// </summary>
    public string PortalUrl { get; set; } = "";

    /// <summary>The portal URLs of <see cref="PortalUrl"/>, in the order they are tried.</summary>
    public IReadOnlyList<string> PortalUrls =>
        PortalUrl.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The agent token an admin created in the portal.</summary>
    public string Token { get; set; } = "";

    public string Name { get; set; } = Environment.MachineName;

    /// <summary>Working folder: the outbox of undelivered reports and the runs' checkpoints.</summary>
    public string DataDirectory { get; set; } = "agent-data";

    /// <summary>Jobs trained at the same time.</summary>
    public int MaxConcurrentJobs { get; set; } = 1;

    /// <summary>"auto" (CUDA when available), "cpu" or "cuda".</summary>
    public string Device { get; set; } = "auto";

    /// <summary>An installed PyTorch's torch/lib folder to use as libtorch (e.g. its CUDA build); also PORTAL_AGENT_LIBTORCH.</summary>
    public string? LibTorchPath { get; set; }

    /// <summary>The Python with PyTorch that a differential job runs the reference with (Debian's python3-torch is for /usr/bin/python3).</summary>
    public string Python { get; set; } = "/usr/bin/python3";

    /// <summary>libtorch intra-op threads; 0 leaves libtorch's default.</summary>
    public int TorchThreads { get; set; }

    /// <summary>First and longest wait between reconnect attempts (doubling, with jitter).</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a silent server is trusted before the connection counts as lost.</summary>
    public TimeSpan ServerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle agent asks for a job even without a JobAvailable nudge.</summary>
    public TimeSpan JobPollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the sender waits after a first point so that the points of several steps go in one batch.</summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Delivery attempts of one item the portal keeps refusing (not a lost connection) before it is dropped.</summary>
    public int MaxRefusedAttempts { get; set; } = 5;

    /// <summary>
    /// A seam for tests: changes the numeric self-check's float32 results (threads, result name, result) so that a
    /// test can make the check fail on purpose. Not bound from configuration.
    /// </summary>
    internal Func<int, string, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>? NumericCheckTamper { get; set; }

    public IEnumerable<string> Check()
    {
        if (PortalUrls.Count == 0) yield return $"--portal must be an http(s) URL (got '{PortalUrl}').";
        foreach (var url in PortalUrls)
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                yield return $"--portal must be an http(s) URL (got '{url}').";
        if (string.IsNullOrWhiteSpace(Token)) yield return "--token is required: create an agent token in the portal (Admin > Agents).";
        if (string.IsNullOrWhiteSpace(Name)) yield return "--name must not be empty.";
        if (MaxConcurrentJobs < 1) yield return $"--max-jobs must be at least 1 (got {MaxConcurrentJobs}).";
        if (Device is not ("auto" or "cpu" or "cuda")) yield return $"--device must be auto, cpu or cuda (got '{Device}').";
    }
}
