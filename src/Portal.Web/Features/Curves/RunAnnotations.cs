using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Curves;

public sealed record AnnotationView(long Id, long RunId, string? Metric, long FromStep, long ToStep, string Comment,
    AnnotationState State, string AuthorName, DateTimeOffset CreatedAt, int Version);

/// <summary>Mentor reviews pinned to a step range of a run: add one, move it through its states, list them.</summary>
public sealed class RunAnnotations(IDbContextFactory<PortalDbContext> dbFactory, CurveRollups rollups, InboxNotifier inbox, LiveUpdates live, TimeProvider clock)
{
    public const int MaxCommentLength = 4000;

    public static string Topic(long runId) => $"curve-annotations:{runId}";

    public async Task<IReadOnlyList<AnnotationView>> ListAsync(IReadOnlyCollection<long> runIds, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<RunAnnotation>()
            .Where(a => runIds.Contains(a.RunId))
            .OrderBy(a => a.RunId).ThenBy(a => a.FromStep).ThenBy(a => a.Id)
            .Select(a => new AnnotationView(a.Id, a.RunId, a.Metric, a.FromStep, a.ToStep, a.Comment, a.State,
                db.Users.Where(u => u.Id == a.AuthorId).Select(u => u.DisplayName).FirstOrDefault() ?? "", a.CreatedAt, a.Version))
            .ToListAsync(cancellationToken);
    }

    public async Task<long> AddAsync(Actor actor, long runId, string? metric, long fromStep, long toStep, string? comment, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        RequireReviewer(actor);
        var text = comment?.Trim() ?? "";
        if (text.Length == 0) throw PortalError.Validation("Write a comment for the review.");
        if (text.Length > MaxCommentLength) throw PortalError.Validation($"A review comment can have at most {MaxCommentLength} characters.");
        if (fromStep > toStep) throw PortalError.Validation($"The step range {fromStep}-{toStep} is reversed: the first step must not be after the last.");

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
                  ?? throw PortalError.NotFound($"There is no run {runId}.");
        var metricName = string.IsNullOrWhiteSpace(metric) ? null : metric.Trim();
        var (first, last) = await StepRangeAsync(runId, metricName, cancellationToken);
        if (first is null || last is null)
            throw PortalError.Validation(metricName is null
                ? $"Run {runId} has no metric points yet; there is no curve to review."
                : $"Run {runId} has no points of {metricName}.");
        if (fromStep < first || toStep > last)
            throw PortalError.Validation($"Steps {fromStep}-{toStep} are outside the run's steps ({first}-{last}).");

        var annotation = new RunAnnotation
        {
            RunId = runId, Metric = metricName, FromStep = fromStep, ToStep = toStep, Comment = text,
            State = AnnotationState.Open, AuthorId = actor.UserId, CreatedAt = clock.GetUtcNow(),
        };
        db.Add(annotation);
        inbox.Add(db, run.StartedById, actor.UserId, NotificationKind.RunAnnotated,
            $"{actor.DisplayName} reviewed steps {fromStep}-{toStep} of run {runId}{(metricName is null ? "" : $" ({metricName})")}: {Shorten(text)}",
            Link(run));
        await db.SaveChangesAsync(cancellationToken);
        inbox.Announce([run.StartedById]);
        live.Publish(Topic(runId));
        return annotation.Id;
    }

    public async Task SetStateAsync(Actor actor, long annotationId, AnnotationState state, CancellationToken cancellationToken = default)
    {
        actor = await dbFactory.RefreshAsync(actor, cancellationToken);
        RequireReviewer(actor);
        if (!Enum.IsDefined(state)) throw PortalError.Validation("Unknown review state.");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var annotation = await db.Set<RunAnnotation>().FirstOrDefaultAsync(a => a.Id == annotationId, cancellationToken)
                         ?? throw PortalError.NotFound($"There is no review {annotationId}.");
        if (annotation.State == state) return;
        var run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == annotation.RunId, cancellationToken);
        annotation.State = state;
        annotation.StateChangedById = actor.UserId;
        annotation.StateChangedAt = clock.GetUtcNow();
        annotation.Version++;
        inbox.Add(db, run.StartedById, actor.UserId, NotificationKind.RunAnnotated,
            $"{actor.DisplayName} marked the review of steps {annotation.FromStep}-{annotation.ToStep} of run {run.Id} as {state.Label()}.", Link(run));
        try { await db.SaveChangesAsync(cancellationToken); }
        catch (DbUpdateConcurrencyException) { throw PortalError.Conflict("Someone changed this review meanwhile; look at it again."); }
        inbox.Announce([run.StartedById]);
        live.Publish(Topic(annotation.RunId));
    }

    private static void RequireReviewer(Actor actor)
    {
        if (!actor.IsMentor && !actor.IsLead) throw PortalError.Forbidden("Only mentors and leads can review curves.");
    }

    private static string Link(Run run) => $"/projects/{run.ProjectId}/compare?runs={run.Id}";

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";

    private async Task<(long? First, long? Last)> StepRangeAsync(long runId, string? metric, CancellationToken cancellationToken)
    {
        await using var connection = await rollups.OpenAsync(cancellationToken);
        var names = metric is null ? await CurveRollups.ListMetricsAsync(connection, runId, cancellationToken) : [metric];
        long? first = null, last = null;
        foreach (var name in names)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """SELECT MIN("Step"), MAX("Step") FROM "MetricPoints" WHERE "RunId" = @run AND "Name" = @name""";
            command.Add("@run", runId);
            command.Add("@name", name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken) || reader.IsDBNull(0)) continue;
            first = first is null ? reader.GetInt64(0) : Math.Min(first.Value, reader.GetInt64(0));
            last = last is null ? reader.GetInt64(1) : Math.Max(last.Value, reader.GetInt64(1));
        }
        return (first, last);
    }
}
