using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Portal.Web.Features.Api;

public sealed record ApiParameterInfo(string Name, string In, bool Required, string Type, string? Description);

public sealed record ApiOperationInfo(string Method, string Path, string Summary, string Description, IReadOnlyList<ApiParameterInfo> Parameters,
    string? RequestBody, IReadOnlyList<string> Responses);

/// <summary>The OpenAPI document the portal serves, read back as the list of operations the reference page shows.</summary>
public sealed class ApiReference([FromKeyedServices(ApiFeature.DocumentName)] IOpenApiDocumentProvider documents)
{
    public async Task<string> GetJsonAsync(CancellationToken ct = default)
    {
        var document = await documents.GetOpenApiDocumentAsync(ct);
        return await document.SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, ct);
    }

    public async Task<IReadOnlyList<ApiOperationInfo>> GetOperationsAsync(CancellationToken ct = default) => Parse(await GetJsonAsync(ct));

    /// <summary>Reads the operations from the document's JSON, in path order, GET before the changes of a path.</summary>
    public static IReadOnlyList<ApiOperationInfo> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var result = new List<ApiOperationInfo>();
        if (!doc.RootElement.TryGetProperty("paths", out var paths)) return result;
        foreach (var path in paths.EnumerateObject())
        {
            foreach (var op in path.Value.EnumerateObject())
            {
                if (op.Name is "parameters" or "summary" or "description" or "servers") continue;
                var parameters = new List<ApiParameterInfo>();
                if (op.Value.TryGetProperty("parameters", out var ps))
                    foreach (var p in ps.EnumerateArray())
                        parameters.Add(new ApiParameterInfo(Text(p, "name"), Text(p, "in"), p.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True,
                            p.TryGetProperty("schema", out var schema) ? TypeOf(schema) : "", p.TryGetProperty("description", out var d) ? d.GetString() : null));
                string? body = null;
                if (op.Value.TryGetProperty("requestBody", out var rb) && rb.TryGetProperty("content", out var content))
                    body = string.Join(", ", content.EnumerateObject().Select(c => c.Name + (c.Value.TryGetProperty("schema", out var s) ? " " + TypeOf(s) : "")));
                var responses = op.Value.TryGetProperty("responses", out var resp) ? resp.EnumerateObject().Select(x => x.Name).ToList() : [];
                result.Add(new ApiOperationInfo(op.Name.ToUpperInvariant(), path.Name, Text(op.Value, "summary"), Text(op.Value, "description"),
                    parameters, body, responses));
            }
        }
        return result.OrderBy(o => o.Path, StringComparer.Ordinal).ThenBy(o => o.Method == "GET" ? 0 : 1).ThenBy(o => o.Method, StringComparer.Ordinal).ToList();
    }

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static string TypeOf(JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out var reference)) return reference.GetString()!.Split('/')[^1];
        if (schema.TryGetProperty("type", out var type))
            return type.ValueKind == JsonValueKind.Array ? string.Join("|", type.EnumerateArray().Select(t => t.GetString())) : type.GetString() ?? "";
        return "";
    }
}
