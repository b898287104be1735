using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Portal.Cli;

/// <summary>An error the portal answered with (its problem details' title), or a failure to reach it.</summary>
public sealed class PortalApiException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>HTTP to /api/v1 with the token; problem details become <see cref="PortalApiException"/>; 429 waits as Retry-After says.</summary>
public sealed class PortalClient : IDisposable
{
    private const int MaxRateLimitWaits = 5;
    private readonly HttpClient _http;

    public PortalClient(string url, string token, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(url.TrimEnd('/') + "/");
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.Timeout = TimeSpan.FromSeconds(100);
    }

    public async Task<JsonElement> GetJsonAsync(string path, CancellationToken ct = default) =>
        JsonDocument.Parse(await SendAsync(HttpMethod.Get, path, null, "application/json", ct)).RootElement.Clone();

    public Task<string> GetTextAsync(string path, string accept, CancellationToken ct = default) => SendAsync(HttpMethod.Get, path, null, accept, ct);

    public async Task<JsonElement> PostJsonAsync(string path, object body, CancellationToken ct = default) =>
        JsonDocument.Parse(await SendAsync(HttpMethod.Post, path, JsonSerializer.Serialize(body, new JsonSerializerOptions(JsonSerializerDefaults.Web)),
            "application/json", ct)).RootElement.Clone();

    private async Task<string> SendAsync(HttpMethod method, string path, string? body, string accept, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path.TrimStart('/'));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            HttpResponseMessage response;
            try { response = await _http.SendAsync(request, ct); }
            catch (HttpRequestException e) { throw new PortalApiException(0, $"Cannot reach the portal at {_http.BaseAddress}: {e.Message}"); }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(ct);
                if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < MaxRateLimitWaits)
                {
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(5), ct);
                    continue;
                }
                if (response.IsSuccessStatusCode) return text;
                throw new PortalApiException((int)response.StatusCode, $"{(int)response.StatusCode} {ProblemTitle(text) ?? response.ReasonPhrase}");
            }
        }
    }

    private static string? ProblemTitle(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("title", out var title) ? title.GetString() : null;
        }
        catch (JsonException)
        {
            return text.Length > 0 ? text : null;
        }
    }

    public void Dispose() => _http.Dispose();
}
