using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Portal.Contracts;
using Portal.Web.Features.Agents;

namespace Portal.Web.Features.Runs;

/// <summary>Artifact uploads and checkpoint downloads for agents; artifact downloads for signed-in users.</summary>
public static class RunEndpoints
{
    public static void MapRunEndpoints(this IEndpointRouteBuilder app)
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

        // Signed-in users (the cookie scheme of the fallback policy) download from the run page.
        app.MapGet("/api/runs/{runId:long}/artifacts/{artifactId:long}", async (long runId, long artifactId, ArtifactStore store, CancellationToken ct) =>
        {
            var (artifact, path) = await store.GetForDownloadAsync(runId, artifactId, ct);
            return Results.File(path, "application/octet-stream", artifact.FileName);
        });
    }

    public static string DownloadPath(RunArtifact artifact) => $"/api/runs/{artifact.RunId}/artifacts/{artifact.Id}";

    internal static string HubPath => AgentProtocol.HubPath;
}
