using Portal.Contracts;

namespace Portal.Web.Features.Runs;

/// <summary>Artifact downloads for signed-in users (agents upload and fetch checkpoints through AgentEndpoints).</summary>
public static class RunEndpoints
{
    public static void MapRunEndpoints(this IEndpointRouteBuilder app)
    {
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
