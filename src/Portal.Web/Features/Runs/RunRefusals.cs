using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Keeps what the portal refused for good from a run's own agent, for the run page. A refusal repeated (an agent
/// sending the same thing again) counts up the existing row; a run keeps at most <see cref="MaxPerRun"/> rows.
/// </summary>
public sealed class RunRefusals(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live, TimeProvider clock, ILogger<RunRefusals> logger)
{
    public const int MaxPerRun = 50;

    public async Task RecordAsync(long runId, string what, string reason)
    {
        reason = Notes.Cap(reason, RunRefusal.MaxReasonLength - 40);
        var now = clock.GetUtcNow();
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var counted = await db.RunRefusals.Where(r => r.RunId == runId && r.What == what && r.Reason == reason)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.Count, r => r.Count + 1).SetProperty(r => r.LastAt, now));
            if (counted == 0)
            {
                if (await db.RunRefusals.CountAsync(r => r.RunId == runId) >= MaxPerRun) return;
                db.RunRefusals.Add(new RunRefusal { RunId = runId, What = what, Reason = reason, LastAt = now });
                await db.SaveChangesAsync();
            }
        }
        catch (DbUpdateException e)
        {
            // Recorded by a concurrent call at the same moment, or the run was deleted: the refusal itself stands.
            logger.LogDebug(e, "Refusal of run {Run} not recorded", runId);
        }
        live.Publish(Topics.Run(runId));
    }
}

/// <summary>Bounds what the portal copies from an agent's input into notes, logs and answers.</summary>
public static class Notes
{
    /// <summary>Metric names quoted in a note are cut to this many characters.</summary>
    public const int NameLength = 64;

    /// <summary>How many items a note lists before it only counts the rest.</summary>
    public const int ListedItems = 3;

    public static string Cap(string? text, int max)
    {
        text ??= "";
        return text.Length <= max ? text : text[..max] + $"… ({text.Length - max} more characters)";
    }

    public static string Name(string? name) => Cap(name, NameLength);

    /// <summary>The first few items, then "and N more".</summary>
    public static string List(IReadOnlyCollection<string> items)
    {
        var listed = string.Join("; ", items.Take(ListedItems));
        return items.Count <= ListedItems ? listed : $"{listed}; and {items.Count - ListedItems} more";
    }
}
