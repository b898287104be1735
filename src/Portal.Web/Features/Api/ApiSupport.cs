using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Api;

/// <summary>The scope an /api/v1 endpoint asks of a token; read by the scope filter, the OpenAPI document and the tests.</summary>
public sealed record ApiScopeMetadata(ApiScopes Scope);

/// <summary>
/// The change needs <c>If-Match</c> with the ETag of <see cref="ResourcePattern"/>, the resource it changes, as last read;
/// read by the handler's precondition check, the OpenAPI document and the tests.
/// </summary>
public sealed record ApiIfMatchMetadata(string ResourcePattern);

/// <summary>One page of a list. <see cref="Next"/> is the query for the following page, or null on the last one.</summary>
public sealed record ApiPage<T>(IReadOnlyList<T> Items, int Page, int Limit, int Total, int Pages, string? Next);

/// <summary>Scopes, paging, ETags and preconditions, the same for every /api/v1 endpoint.</summary>
public static class ApiSupport
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>
    /// Asks the token for <paramref name="scope"/>. Checked by authorization, before the body is read, so a token without
    /// the scope learns that (a 403 naming it, see <see cref="ApiTokenHandler"/>) whatever it sent.
    /// </summary>
    public static RouteHandlerBuilder RequireScope(this RouteHandlerBuilder endpoint, ApiScopes scope) => endpoint
        .WithMetadata(new ApiScopeMetadata(scope))
        .RequireAuthorization(policy => policy.AddAuthenticationSchemes(ApiAuth.Scheme).RequireAuthenticatedUser()
            .RequireAssertion(context => (ApiAuth.Scopes(context.User) & scope) != 0))
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);

    public static Actor ActorOf(HttpContext http) => Actor.From(http.User);

    /// <summary>A stable page of <paramref name="items"/> (already in their final order); a page past the end is an error, not an empty list.</summary>
    public static ApiPage<T> Page<T>(HttpContext http, IReadOnlyList<T> items, int? limit, int? page)
    {
        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit) throw PortalError.Validation($"limit must be between 1 and {MaxLimit}; it was {size}.");
        var number = page ?? 1;
        if (number < 1) throw PortalError.Validation($"page starts at 1; it was {number}.");
        var pages = Math.Max(1, (items.Count + size - 1) / size);
        if (number > pages)
            throw PortalError.Validation($"page {number} is past the end: there {(pages == 1 ? "is 1 page" : $"are {pages} pages")} of {size} for {items.Count} item(s).");
        var slice = items.Skip((number - 1) * size).Take(size).ToList();
        string? next = null;
        if (number < pages)
        {
            var query = http.Request.Query.Where(q => q.Key is not ("page" or "limit"))
                .Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}")
                .Append($"limit={size}").Append($"page={number + 1}");
            next = $"{http.Request.Path}?{string.Join("&", query)}";
        }
        return new ApiPage<T>(slice, number, size, items.Count, pages, next);
    }

    /// <summary>
    /// The representation as JSON with a strong ETag (SHA-256 of the bytes); <c>If-None-Match</c> with that ETag gets 304.
    /// Because the tag is of the bytes, it changes exactly when what a client would read changes.
    /// </summary>
    public static IResult Json<T>(HttpContext http, T value, int status = StatusCodes.Status200OK)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, SerializerOptions(http));
        var etag = ETagOf(bytes);
        http.Response.Headers.ETag = etag;
        if (status == StatusCodes.Status200OK && Matches(http.Request.Headers.IfNoneMatch, etag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Text(System.Text.Encoding.UTF8.GetString(bytes), "application/json", System.Text.Encoding.UTF8, status);
    }

    /// <summary>
    /// Marks a change of an existing resource (at <paramref name="resourcePattern"/>, a route under /api/v1) as one that
    /// needs <c>If-Match</c>; the handler checks it with <see cref="RequireMatchAsync{T}"/> before it calls the service.
    /// </summary>
    public static RouteHandlerBuilder RequireIfMatch(this RouteHandlerBuilder endpoint, string resourcePattern) => endpoint
        .WithMetadata(new ApiIfMatchMetadata(ApiEndpoints.Prefix + resourcePattern))
        .ProducesProblem(StatusCodes.Status412PreconditionFailed)
        .ProducesProblem(StatusCodes.Status428PreconditionRequired);

    /// <summary>
    /// Lets a change go ahead only when <c>If-Match</c> holds the resource's current ETag: without the header the answer
    /// is 428, with a stale one 412, and in both cases the service is never called. A client that changes what it has
    /// not read (or read before someone else changed it) learns that instead of overwriting the other's work; the
    /// services still settle races between two writers that both sent a fresh ETag.
    /// </summary>
    public static async Task RequireMatchAsync<T>(HttpContext http, Func<Task<T>> current)
    {
        var resource = http.GetEndpoint()?.Metadata.GetMetadata<ApiIfMatchMetadata>()
                       ?? throw new InvalidOperationException($"{http.Request.Path} checks If-Match but does not declare it with RequireIfMatch.");
        var header = http.Request.Headers.IfMatch;
        if (header.Count == 0 || header.All(string.IsNullOrWhiteSpace))
            throw new PreconditionRequiredException(FillRoute(resource.ResourcePattern, http.Request.RouteValues));
        var etag = ETagOf(JsonSerializer.SerializeToUtf8Bytes(await current(), SerializerOptions(http)));
        if (!Matches(header, etag)) throw new PreconditionFailedException();
    }

    private static string FillRoute(string pattern, RouteValueDictionary values) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{(\w+)(:[^}]*)?\}",
            m => values.TryGetValue(m.Groups[1].Value, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture) ?? m.Value : m.Value);

    public static string ETagOf(byte[] bytes) => $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\"";

    private static bool Matches(Microsoft.Extensions.Primitives.StringValues header, string etag) =>
        header.SelectMany(h => (h ?? "").Split(',')).Select(t => t.Trim()).Any(t => t == "*" || t == etag || t == "W/" + etag);

    private static JsonSerializerOptions SerializerOptions(HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

    /// <summary>Parses an enum from a query or body value, or says which values there are.</summary>
    public static TEnum? ParseEnum<TEnum>(string? value, string name) where TEnum : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (Enum.TryParse<TEnum>(value.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(value, out _)) return parsed;
        throw PortalError.Validation($"{name} '{value}' is not one of: {string.Join(", ", Enum.GetNames<TEnum>())}.");
    }

    /// <summary>A number for CSV, with the invariant culture; empty for NaN and infinities.</summary>
    public static string Csv(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    public static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>A change of an existing resource came without <c>If-Match</c>: answered 428, and nothing is changed.</summary>
public sealed class PreconditionRequiredException(string resource) : Exception(
    $"This change needs If-Match: read {resource} first and send its ETag in an If-Match header, so that you do not overwrite a change you have not seen.");

/// <summary>The client's <c>If-Match</c> no longer matches: answered 412, and nothing is changed.</summary>
public sealed class PreconditionFailedException() : Exception(
    "The resource changed since you read it (its ETag no longer matches If-Match). Read it again and retry.");
