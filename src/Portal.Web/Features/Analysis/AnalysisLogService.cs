using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Analysis;

public sealed record DiscrepancyView(long Id, string Topic, string PaperSays, string PaperSource, string CodeDoes, string CodeSource,
    string Decision, string Reason, DiscrepancyStatus Status, string RaisedBy, DateTimeOffset RaisedAt, string? DecidedBy);

public sealed record AuthorQuestionView(long Id, string Question, AuthorQuestionStatus Status, string Answer, string AskedBy,
    DateTimeOffset AskedAt, DateTimeOffset? SentAt, DateTimeOffset? AnsweredAt);

/// <summary>The discrepancy log (paper says X, code does Y, decision and why) and the questions to the paper's authors.</summary>
public sealed class AnalysisLogService(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, TimeProvider clock)
{
    public async Task<IReadOnlyList<DiscrepancyView>> DiscrepanciesAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await (from d in db.Discrepancies
                      where d.ProjectId == projectId
                      orderby d.Status, d.Id
                      select new DiscrepancyView(d.Id, d.Topic, d.PaperSays, d.PaperSource, d.CodeDoes, d.CodeSource, d.Decision, d.Reason, d.Status,
                          db.Users.Where(u => u.Id == d.RaisedById).Select(u => u.DisplayName).FirstOrDefault() ?? "?", d.RaisedAt,
                          db.Users.Where(u => u.Id == d.DecidedById).Select(u => u.DisplayName).FirstOrDefault()))
            .ToListAsync(ct);
    }

    public async Task<long> RaiseDiscrepancyAsync(Actor actor, long projectId, string topic, string paperSays, string paperSource,
        string codeDoes, string codeSource, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        topic = Required(topic, "Name what the discrepancy is about.");
        paperSays = Required(paperSays, "Say what the paper says.");
        codeDoes = Required(codeDoes, "Say what the reference code does.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireProjectAsync(db, projectId, ct);
        var d = new Discrepancy
        {
            ProjectId = projectId, Topic = topic, PaperSays = paperSays, PaperSource = Optional(paperSource), CodeDoes = codeDoes,
            CodeSource = Optional(codeSource), RaisedById = actor.UserId, RaisedAt = clock.GetUtcNow(),
        };
        db.Discrepancies.Add(d);
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(projectId));
        return d.Id;
    }

    /// <summary>Deciding which side the team follows is a lead's call, and it needs its reason.</summary>
    public async Task DecideAsync(Actor actor, long discrepancyId, string decision, string reason, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        actor.RequireLead("decide a discrepancy");
        decision = Required(decision, "Say what the team will do.");
        reason = Required(reason, "Say why: the next person will ask.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var d = await db.Discrepancies.FirstOrDefaultAsync(x => x.Id == discrepancyId, ct)
                ?? throw PortalError.NotFound($"There is no discrepancy {discrepancyId}.");
        (d.Decision, d.Reason, d.Status, d.DecidedById, d.DecidedAt) = (decision, reason, DiscrepancyStatus.Decided, actor.UserId, clock.GetUtcNow());
        db.Activity.Add(new ActivityEntry { ProjectId = d.ProjectId, UserId = actor.UserId, Text = $"decided the discrepancy \"{d.Topic}\": {decision}", Link = ActivityLinks.Analysis(d.ProjectId, "discrepancies"), At = clock.GetUtcNow() });
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(d.ProjectId));
    }

    public async Task<IReadOnlyList<AuthorQuestionView>> QuestionsAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await (from q in db.AuthorQuestions
                      where q.ProjectId == projectId
                      orderby q.Id
                      select new AuthorQuestionView(q.Id, q.Question, q.Status, q.Answer,
                          db.Users.Where(u => u.Id == q.AskedById).Select(u => u.DisplayName).FirstOrDefault() ?? "?", q.AskedAt, q.SentAt, q.AnsweredAt))
            .ToListAsync(ct);
    }

    public async Task<long> AskAsync(Actor actor, long projectId, string question, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        question = Required(question, "Write the question first.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireProjectAsync(db, projectId, ct);
        var q = new AuthorQuestion { ProjectId = projectId, Question = question, AskedById = actor.UserId, AskedAt = clock.GetUtcNow() };
        db.AuthorQuestions.Add(q);
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(projectId));
        return q.Id;
    }

    /// <summary>Asked, then sent (e-mailed to the authors), then answered; a question only moves forward.</summary>
    public async Task MarkSentAsync(Actor actor, long questionId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = await FindQuestionAsync(db, questionId, ct);
        if (q.Status != AuthorQuestionStatus.Asked) throw PortalError.Conflict("This question was sent already.");
        (q.Status, q.SentAt) = (AuthorQuestionStatus.Sent, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(q.ProjectId));
    }

    public async Task RecordAnswerAsync(Actor actor, long questionId, string answer, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        answer = Required(answer, "Write the authors' answer first.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var q = await FindQuestionAsync(db, questionId, ct);
        if (q.Status == AuthorQuestionStatus.Asked) throw PortalError.Conflict("Mark the question sent before recording the authors' answer.");
        var now = clock.GetUtcNow();
        (q.Status, q.Answer, q.AnsweredAt) = (AuthorQuestionStatus.Answered, answer, now);
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(q.ProjectId));
    }

    private static async Task<AuthorQuestion> FindQuestionAsync(PortalDbContext db, long id, CancellationToken ct) =>
        await db.AuthorQuestions.FirstOrDefaultAsync(q => q.Id == id, ct) ?? throw PortalError.NotFound($"There is no question {id}.");

    internal static async Task RequireProjectAsync(PortalDbContext db, long projectId, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) throw PortalError.NotFound($"There is no project {projectId}.");
    }

    internal static string Required(string? text, string message)
    {
        text = (text ?? "").Trim();
        if (text.Length == 0) throw PortalError.Validation(message);
        return Optional(text);
    }

    internal static string Optional(string? text)
    {
        text = (text ?? "").Trim();
        if (text.Length > ChecklistService.MaxTextLength) throw PortalError.Validation($"A field is at most {ChecklistService.MaxTextLength} characters.");
        return text;
    }
}
