using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Web.Data;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Runs;

namespace Portal.Testing.Curves;

/// <summary>
/// Runs and metric points for curve tests and benchmarks, written straight into the portal's database (SQLite or PostgreSQL) the way
/// the metric writer stores them (one prepared insert in a transaction), then published like ingestion does.
/// </summary>
public static class CurveTestData
{
    public static async Task<long> CreateRunAsync(PortalAppFactory app, string projectName = "YOLOv4-tiny", string startedBy = "member3",
        RunStatus status = RunStatus.Running, string split = "val")
    {
        await using var db = await app.DbFactory.CreateDbContextAsync();
        var project = await db.Projects.FirstAsync(p => p.Name == projectName);
        var user = await db.Users.FirstAsync(u => u.UserName == startedBy);
        var run = new Run
        {
            ProjectId = project.Id, Recipe = "detector", Status = status, StartedById = user.Id, Dataset = "COCO", Split = split,
            QueuedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow, Commit = "0123456789abcdef",
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    /// <summary>Stores the points (duplicates of a stored step are ignored) and, if asked, publishes them to the viewers.</summary>
    public static async Task WritePointsAsync(PortalAppFactory app, long runId, IReadOnlyList<MetricPointDto> points, bool publish = true)
    {
        await using (var connection = await RawDb.OpenAsync(app.DbFactory, CancellationToken.None))
        {
            // As the metric writer runs (on SQLite: WAL with synchronous=NORMAL, see RawSqlite).
            await using var transaction = await connection.BeginTransactionAsync();
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """INSERT INTO "MetricPoints" ("RunId", "Name", "Step", "Value", "WallTime") VALUES (@run, @name, @step, @value, @time) ON CONFLICT DO NOTHING""";
            insert.Add("@run", runId);
            var name = insert.Add("@name", DbType.String);
            var step = insert.Add("@step", DbType.Int64);
            var value = insert.Add("@value", DbType.Double);
            var time = insert.Add("@time", connection.StoredTimeType());
            insert.Prepare();
            foreach (var p in points)
            {
                name.Value = p.Name;
                step.Value = p.Step;
                // SQLite turns a NaN REAL into NULL, which the NOT NULL column refuses: NaN is stored as the
                // metric writer's sentinel.
                value.Value = Portal.Web.Features.Runs.NaNSentinel.ToStored(p.Value);
                time.Value = connection.ToStoredTime(p.WallTime);
                await insert.ExecuteNonQueryAsync();
            }
            await transaction.CommitAsync();
        }
        if (publish) await app.Services.GetRequiredService<MetricStream>().PublishAsync(runId, points);
    }

    /// <summary>A loss-like curve: decaying, a little noise from a fixed seed, one point per step.</summary>
    public static List<MetricPointDto> Curve(string name, long fromStep, int count, int seed = 7, DateTimeOffset? start = null)
    {
        var random = new Random(seed);
        var t0 = start ?? DateTimeOffset.UnixEpoch.AddYears(56);
        var points = new List<MetricPointDto>(count);
        for (var i = 0; i < count; i++)
        {
            var s = fromStep + i;
            points.Add(new MetricPointDto(name, s, 5.0 * Math.Exp(-s / 200_000.0) + 0.5 + random.NextDouble() * 0.05, t0.AddMilliseconds(s * 10)));
        }
        return points;
    }
}
