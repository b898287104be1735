using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Tasks;

/// <summary>
/// The claim controls as plain form posts, for scripts and for pages without a circuit. Binding the form makes
/// ASP.NET Core check the antiforgery token; errors come back as problem details with the service's message.
/// </summary>
public static class TaskEndpoints
{
    public static IEndpointRouteBuilder MapTaskEndpoints(this IEndpointRouteBuilder app)
    {
        // Each handler binds the form (even where it reads nothing from it) so that the antiforgery token is required.
        var tasks = app.MapGroup("/api/tasks/{taskId:long}");
        tasks.MapPost("/claim", (long taskId, IFormCollection form, HttpContext http, TaskClaims claims, CancellationToken ct) =>
            Run(() => claims.ClaimAsync(Actor.From(http.User), taskId, ct)));
        tasks.MapPost("/unclaim", (long taskId, IFormCollection form, HttpContext http, TaskClaims claims, CancellationToken ct) =>
            Run(() => claims.UnclaimAsync(Actor.From(http.User), taskId, ct)));
        tasks.MapPost("/review", (long taskId, IFormCollection form, HttpContext http, TaskClaims claims, CancellationToken ct) =>
            Run(() => claims.SubmitForReviewAsync(Actor.From(http.User), taskId, ct)));
        tasks.MapPost("/done", (long taskId, IFormCollection form, HttpContext http, TaskClaims claims, CancellationToken ct) =>
            Run(() => claims.CompleteAsync(Actor.From(http.User), taskId, ct)));
        tasks.MapPost("/assign", (long taskId, IFormCollection form, HttpContext http, TaskClaims claims, CancellationToken ct) =>
            Run(() => claims.AssignAsync(Actor.From(http.User), taskId, form["assigneeId"].ToString(), ct)));
        return app;
    }

    private static async Task<IResult> Run(Func<Task> action)
    {
        await action();
        return Results.NoContent();
    }
}
