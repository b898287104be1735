using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Agents;

/// <summary>Artifact uploads and checkpoint downloads for agents, authenticated by their token.</summary>
public static class AgentEndpoints
{
    public static void MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        var agent = app.MapGroup("/api/agent").RequireAuthorization(AgentAuth.Policy);

        agent.MapPost("/runs/{runId:long}/artifacts/{kind}", async (long runId, string kind, [FromQuery] string? fileName,
            [FromQuery] string? sha256, [FromQuery] long? step, HttpContext http, ArtifactStore store) =>
        {
            // Kestrel's default body limit is far below a checkpoint's size; the store enforces its own limit while streaming.
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = store.MaxBytes + 1;
            if (http.Request.ContentLength > store.MaxBytes)
                return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"The artifact is larger than the limit of {store.MaxBytes} bytes.");
            try
            {
                var artifact = await store.SaveAsync(AgentAuth.TokenId(http.User), runId, kind, fileName, sha256, step,
                    http.Request.ContentLength, http.Request.Body, http.RequestAborted);
                return Results.Ok(new { artifact.Id, artifact.Sha256, artifact.SizeBytes });
            }
            catch (ArtifactTooLargeException e)
            {
                return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: e.Message);
            }
        }).DisableAntiforgery();

        agent.MapGet("/runs/{runId:long}/checkpoint", async (long runId, HttpContext http, ArtifactStore store) =>
        {
            var (artifact, path) = await store.LatestCheckpointAsync(AgentAuth.TokenId(http.User), runId, http.RequestAborted);
            http.Response.Headers["X-Checkpoint-Step"] = artifact.Step?.ToString();
            http.Response.Headers["X-Checkpoint-Sha256"] = artifact.Sha256;
            return Results.File(path, "application/octet-stream", artifact.FileName);
        });
    }
}
