using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Contracts;

namespace Portal.Agent;

/// <summary>The portal refused a request for good (as opposed to being unreachable or busy): sending it again will not help.</summary>
internal sealed class PortalRefusedException(string message) : Exception(message);

/// <summary>The agent's two channels to the portal: the SignalR hub (MessagePack) and HTTP for files.</summary>
internal sealed class PortalClient : IAsyncDisposable
{
    private readonly HttpClient _http;

    public PortalClient(AgentOptions options, ILoggerFactory loggerFactory)
    {
        var baseUri = new Uri(options.PortalUrl.TrimEnd('/') + "/");
        Hub = new HubConnectionBuilder()
            .WithUrl(new Uri(baseUri, AgentProtocol.HubPath.TrimStart('/')), o => o.AccessTokenProvider = () => Task.FromResult<string?>(options.Token))
            .AddMessagePackProtocol()
            .ConfigureLogging(l => l.AddProvider(new ForwardingLoggerProvider(loggerFactory)))
            .Build();
        Hub.ServerTimeout = options.ServerTimeout;
        Hub.KeepAliveInterval = options.ServerTimeout / 3;
        _http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
    }

    public HubConnection Hub { get; }

    public bool IsConnected => Hub.State == HubConnectionState.Connected;

    /// <summary>Streams a file to the portal; returns its SHA-256 (hex) and size.</summary>
    public async Task<(string Sha256, long Size)> UploadAsync(long runId, string kind, Stream content, string fileName, long? step, CancellationToken cancellationToken)
    {
        var sha = await HashAsync(content, cancellationToken);
        content.Position = 0;
        var query = $"?fileName={Uri.EscapeDataString(fileName)}&sha256={sha}" + (step is { } s ? $"&step={s}" : "");
        using var body = new StreamContent(content, 81920);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        body.Headers.ContentLength = content.Length;
        using var response = await _http.PostAsync(AgentProtocol.ArtifactUploadPath(runId, kind).TrimStart('/') + query, body, cancellationToken);
        await ThrowIfRefusedAsync(response, cancellationToken);
        return (sha, content.Length);
    }

    /// <summary>Downloads the run's latest checkpoint to <paramref name="path"/>.</summary>
    public async Task DownloadCheckpointAsync(long runId, string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(AgentProtocol.CheckpointDownloadPath(runId).TrimStart('/'), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ThrowIfRefusedAsync(response, cancellationToken);
        var temp = path + ".download";
        await using (var file = File.Create(temp))
            await response.Content.CopyToAsync(file, cancellationToken);
        File.Move(temp, path, overwrite: true);
    }

    private static async Task ThrowIfRefusedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        var status = (int)response.StatusCode;
        // Server errors and throttling are the portal having a bad moment: worth retrying like a lost connection.
        // So is 401: the hub connection fails with the same token and the agent is not delivering anyway.
        if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.Unauthorized)
            throw new HttpRequestException($"The portal answered {status}: {detail}", null, response.StatusCode);
        throw new PortalRefusedException($"The portal refused {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} with {status}: {detail}");
    }

    private static async Task<string> HashAsync(Stream content, CancellationToken cancellationToken)
    {
        using var sha = SHA256.Create();
        var hash = await sha.ComputeHashAsync(content, cancellationToken);
        return Convert.ToHexStringLower(hash);
    }

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        _http.Dispose();
    }

    /// <summary>Sends the hub client's own logs to the host's logger factory.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);
        public void Dispose() { }
    }
}
