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

/// <summary>
/// The agent's two channels to the portal: the SignalR hub (MessagePack) and HTTP for files. With several portal
/// URLs (instances sharing one database), every request goes to the current one: <see cref="MoveToNext"/> switches
/// both channels to the next, and the hub's next start connects there.
/// </summary>
internal sealed class PortalClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly Uri[] _portals;
    private int _current;

    public PortalClient(AgentOptions options, ILoggerFactory loggerFactory)
    {
        _portals = options.PortalUrls.Select(u => new Uri(u.TrimEnd('/') + "/")).ToArray();
        var baseUri = _portals[0];
        Hub = new HubConnectionBuilder()
            .WithUrl(new Uri(baseUri, AgentProtocol.HubPath.TrimStart('/')), o =>
            {
                o.AccessTokenProvider = () => Task.FromResult<string?>(options.Token);
                if (_portals.Length == 1) return;
                // The hub's address is fixed when it is built; requests and the WebSocket are pointed at the current portal instead.
                o.HttpMessageHandlerFactory = inner => new ToCurrentPortal(this) { InnerHandler = inner };
                o.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var socket = new System.Net.WebSockets.ClientWebSocket();
                    socket.Options.SetRequestHeader("Authorization", "Bearer " + options.Token);
                    await socket.ConnectAsync(Redirect(context.Uri), cancellationToken);
                    return socket;
                };
            })
            .AddMessagePackProtocol()
            .ConfigureLogging(l => l.AddProvider(new ForwardingLoggerProvider(loggerFactory)))
            .Build();
        Hub.ServerTimeout = options.ServerTimeout;
        Hub.KeepAliveInterval = options.ServerTimeout / 3;
        _http = _portals.Length == 1
            ? new HttpClient { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient(new ToCurrentPortal(this) { InnerHandler = new HttpClientHandler() }) { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
    }

    public HubConnection Hub { get; }

    /// <summary>The portal the agent talks to now.</summary>
    public Uri Current => _portals[Volatile.Read(ref _current)];

    /// <summary>Moves to the next portal URL (the current one went away); false when there is only one.</summary>
    public bool MoveToNext()
    {
        if (_portals.Length == 1) return false;
        Interlocked.Exchange(ref _current, (Volatile.Read(ref _current) + 1) % _portals.Length);
        return true;
    }

    /// <summary>The same request sent to the current portal: scheme, host and port replaced, path and query kept.</summary>
    private Uri Redirect(Uri uri)
    {
        var current = Current;
        var scheme = uri.Scheme is "ws" or "wss" ? (current.Scheme == "https" ? "wss" : "ws") : current.Scheme;
        return new UriBuilder(uri) { Scheme = scheme, Host = current.Host, Port = current.Port }.Uri;
    }

    private sealed class ToCurrentPortal(PortalClient client) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { } uri) request.RequestUri = client.Redirect(uri);
            return base.SendAsync(request, cancellationToken);
        }
    }

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
