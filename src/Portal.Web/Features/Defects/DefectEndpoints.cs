using System.Text;

namespace Portal.Web.Features.Defects;

public static class DefectEndpoints
{
    public static IEndpointRouteBuilder MapDefectEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/projects/{projectId:long}/defects/export", async (long projectId, DefectQueries queries, CancellationToken ct) =>
            Results.File(Encoding.UTF8.GetBytes(DefectCsv.Write(await queries.AllAsync(projectId, ct))), "text/csv", $"defects-project-{projectId}.csv"))
            .RequireAuthorization();
        return app;
    }
}
