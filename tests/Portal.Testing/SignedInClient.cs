using System.Net;
using System.Text.RegularExpressions;

namespace Portal.Testing;

/// <summary>An HttpClient with a cookie jar, signed in through the real sign-in form.</summary>
public static partial class SignedInClient
{
    public const string DemoPassword = "Demo!2026";

    public static async Task<HttpClient> CreateAsync(Uri server, string userName, string password = DemoPassword)
    {
        var client = CreateAnonymous(server);
        var token = await GetAntiforgeryTokenAsync(client, "account/login");
        var response = await client.PostAsync("account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = userName, ["password"] = password, ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
        }));
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.Contains("error") == true)
            throw new InvalidOperationException($"Sign-in as {userName} failed: {response.StatusCode} {response.Headers.Location}");
        return client;
    }

    /// <summary>Posts with the antiforgery token of the signed-in layout's sign-out form, as a page's form would.</summary>
    public static async Task<HttpResponseMessage> PostWithTokenAsync(HttpClient client, string path, Dictionary<string, string>? form = null)
    {
        var fields = new Dictionary<string, string>(form ?? []) { ["__RequestVerificationToken"] = await GetAntiforgeryTokenAsync(client, "/") };
        return await client.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    public static HttpClient CreateAnonymous(Uri server) =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = server };

    /// <summary>Reads the antiforgery token from a page's form (it also sets the antiforgery cookie).</summary>
    public static async Task<string> GetAntiforgeryTokenAsync(HttpClient client, string page)
    {
        var html = await client.GetStringAsync(page);
        var match = TokenField().Match(html);
        if (!match.Success) throw new InvalidOperationException($"No antiforgery token on {page}.");
        return match.Groups[1].Value;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
