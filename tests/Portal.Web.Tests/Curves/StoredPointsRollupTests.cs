using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Data;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Curves;

/// <summary>
/// The tiers rolled from the points an instance has just stored, without reading them back, against the tiers
/// rolled from the table: they must be the same rows, and anything the kept points do not account for must come
/// from the table.
/// </summary>
public sealed class StoredPointsRollupTests(PortalAppFactory app) : IClassFixture<PortalAppFactory>
{
    private CurveRollups Rollups => app.Services.GetRequiredService<CurveRollups>();

    private static List<SeriesPoint> Kept(IEnumerable<MetricPointDto> points) =>
        points.Select(p => new SeriesPoint(p.Step, p.Value, p.WallTime.ToUnixTimeMilliseconds())).ToList();

    /// <summary>Every stored summary of the run, and its series rows, in key order.</summary>
    private Task<(List<CurveRollup> Tiers, List<CurveSeries> Series)> ReadTiersAsync(long runId) => app.WithDbAsync(async db =>
    {
        // Series first: a series row commits with its summaries, so summaries read after it are at least as new.
        var series = await db.Set<CurveSeries>().AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Name).ToListAsync();
        var tiers = await db.Set<CurveRollup>().AsNoTracking().Where(r => r.RunId == runId)
            .OrderBy(r => r.Name).ThenBy(r => r.Level).ThenBy(r => r.Bucket).ToListAsync();
        return (tiers, series);
    });

    /// <summary>The tiers as the table alone gives them: forgotten, then rolled from every stored point.</summary>
    private async Task<(List<CurveRollup> Tiers, List<CurveSeries> Series)> RebuiltFromTableAsync(long runId, params string[] names)
    {
        await using (var db = await app.DbFactory.CreateDbContextAsync()) await Rollups.ForgetRunAsync(db, runId);
        await using var connection = await Rollups.OpenAsync(CancellationToken.None);
        foreach (var name in names) await Rollups.EnsureCurrentAsync(connection, runId, name, CancellationToken.None);
        return await ReadTiersAsync(runId);
    }

    private static void AssertSameTiers((List<CurveRollup> Tiers, List<CurveSeries> Series) expected, (List<CurveRollup> Tiers, List<CurveSeries> Series) actual)
    {
        Assert.Equal(expected.Series.Select(Row), actual.Series.Select(Row));
        Assert.Equal(expected.Tiers.Count, actual.Tiers.Count);
        Assert.Equal(expected.Tiers.Select(Row), actual.Tiers.Select(Row));
    }

    private static string Row(object row) => string.Join("|", row.GetType().GetProperties().Select(p => p.GetValue(row) switch
    {
        double d => BitConverter.DoubleToInt64Bits(d).ToString(), // bit for bit, so -0.0, infinities and precision count
        var v => v?.ToString() ?? "null",
    }));

    private async Task<long> RowsReadAsync(Func<Task> action)
    {
        var rows = CurveReadMeter.Start();
        await action();
        return rows.Value;
    }

    [Fact]
    public async Task Tiers_rolled_from_the_points_just_stored_are_the_tiers_the_table_gives()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        // Wall times with sub-millisecond ticks, NaN and infinite values, and batches that end inside buckets.
        var start = DateTimeOffset.UnixEpoch.AddYears(56).AddTicks(9_999);
        var points = CurveTestData.Curve("train/loss", 0, 60_000, start: start);
        points[20_001] = points[20_001] with { Value = double.NaN };
        points[20_002] = points[20_002] with { Value = double.PositiveInfinity };
        points[33_000] = points[33_000] with { Value = double.NegativeInfinity };
        points[40_000] = points[40_000] with { Value = -0.0 };
        points[45_555] = points[45_555] with { Value = 1e-310 };
        var first = points[..10_007];
        await CurveTestData.WritePointsAsync(app, runId, first, publish: false);
        await using (var connection = await Rollups.OpenAsync(CancellationToken.None))
            await Rollups.EnsureCurrentAsync(connection, runId, "train/loss", CancellationToken.None);

        var pointsRead = 0L;
        foreach (var batch in new[] { points[10_007..20_002], points[20_002..20_003], points[20_003..59_999], points[59_999..] })
        {
            await CurveTestData.WritePointsAsync(app, runId, batch, publish: false);
            pointsRead += await RowsReadAsync(() => Rollups.RollStoredAsync(runId, "train/loss", Kept(batch), verify: true, CancellationToken.None));
        }
        var rolled = await ReadTiersAsync(runId);

        // Each roll reads at most the open bucket of each tier, never the points.
        Assert.True(pointsRead <= 4 * CurveLevels.Tiers.Length, $"{pointsRead} rows read");
        Assert.Equal(59_999, Assert.Single(rolled.Series).RolledUpToStep);
        AssertSameTiers(await RebuiltFromTableAsync(runId, "train/loss"), rolled);
    }

    [Fact]
    public async Task Kept_points_out_of_step_order_or_stored_twice_roll_as_the_table_holds_them()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("train/loss", 0, 5_000);
        await CurveTestData.WritePointsAsync(app, runId, points[..1_000], publish: false);
        await using (var connection = await Rollups.OpenAsync(CancellationToken.None))
            await Rollups.EnsureCurrentAsync(connection, runId, "train/loss", CancellationToken.None);

        // Steps 1000-2999 were stored, then steps 2000-2999 replaced (as a resume does): the later values count.
        await CurveTestData.WritePointsAsync(app, runId, points[1_000..3_000], publish: false);
        var replaced = points[2_000..3_000].Select(p => p with { Value = p.Value + 10 }).ToList();
        await app.WithDbAsync(db => db.MetricPoints.Where(p => p.RunId == runId && p.Step >= 2_000).ExecuteDeleteAsync());
        await CurveTestData.WritePointsAsync(app, runId, replaced, publish: false);
        var kept = Kept(points[1_000..3_000]);
        kept.Reverse();
        kept.AddRange(Kept(replaced));

        var rowsRead = await RowsReadAsync(() => Rollups.RollStoredAsync(runId, "train/loss", kept, verify: true, CancellationToken.None));
        var rolled = await ReadTiersAsync(runId);

        Assert.True(rowsRead <= CurveLevels.Tiers.Length, $"{rowsRead} rows read");
        Assert.Equal(2_999, Assert.Single(rolled.Series).RolledUpToStep);
        AssertSameTiers(await RebuiltFromTableAsync(runId, "train/loss"), rolled);
    }

    [Fact]
    public async Task Points_another_instance_stored_in_between_are_rolled_from_the_table()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("train/loss", 0, 30_000);
        await CurveTestData.WritePointsAsync(app, runId, points[..10_000], publish: false);
        await using (var connection = await Rollups.OpenAsync(CancellationToken.None))
            await Rollups.EnsureCurrentAsync(connection, runId, "train/loss", CancellationToken.None);

        // Steps 10000-19999 came through another instance; this one stored 20000-29999 and keeps only those.
        await CurveTestData.WritePointsAsync(app, runId, points[10_000..], publish: false);
        var rowsRead = await RowsReadAsync(() => Rollups.RollStoredAsync(runId, "train/loss", Kept(points[20_000..]), verify: true, CancellationToken.None));
        var rolled = await ReadTiersAsync(runId);

        Assert.True(rowsRead >= 20_000, $"{rowsRead} rows read: the points were read from the table");
        Assert.Equal(29_999, Assert.Single(rolled.Series).RolledUpToStep);
        Assert.Equal(30_000, rolled.Series[0].Count);
        AssertSameTiers(await RebuiltFromTableAsync(runId, "train/loss"), rolled);
    }

    [Fact]
    public async Task A_series_without_tiers_is_rolled_from_the_table_even_when_its_points_were_kept()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        var earlier = CurveTestData.Curve("lr", 0, 2_000);
        var kept = CurveTestData.Curve("lr", 2_000, 2_000);
        await CurveTestData.WritePointsAsync(app, runId, earlier, publish: false);
        await CurveTestData.WritePointsAsync(app, runId, kept, publish: false);

        await Rollups.RollStoredAsync(runId, "lr", Kept(kept), verify: true, CancellationToken.None);
        var rolled = await ReadTiersAsync(runId);

        Assert.Equal(4_000, Assert.Single(rolled.Series).Count);
        AssertSameTiers(await RebuiltFromTableAsync(runId, "lr"), rolled);
    }

    [Fact]
    public async Task The_roller_keeps_the_tiers_of_published_points_current_as_the_table_would()
    {
        var runId = await CurveTestData.CreateRunAsync(app);
        string[] names = ["train/loss", "train/lr"];
        var points = names.SelectMany((n, i) => CurveTestData.Curve(n, 0, 40_000, seed: i)).ToList();
        points[7_777] = points[7_777] with { Value = double.NaN };
        // Published as the metric writer does after each commit: mixed names, batches of a few thousand.
        var interleaved = points.OrderBy(p => p.Step).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
        foreach (var batch in interleaved.Chunk(AgentProtocol.MaxPointsPerBatch))
            await CurveTestData.WritePointsAsync(app, runId, batch, publish: true);

        var rolled = await WaitForRolledAsync(runId, names.Length, 39_999);

        Assert.All(rolled.Series, s => Assert.Equal(40_000, s.Count));
        AssertSameTiers(await RebuiltFromTableAsync(runId, names), rolled);
    }

    [Fact]
    public async Task Points_stored_before_the_roller_saw_the_series_come_into_its_tiers()
    {
        // As after a restart: tiers rolled up to a step, then points stored that the previous process never rolled
        // (it kept them in memory), then this process's points.
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("train/loss", 0, 30_000);
        await CurveTestData.WritePointsAsync(app, runId, points[..10_000], publish: false);
        await using (var connection = await Rollups.OpenAsync(CancellationToken.None))
            await Rollups.EnsureCurrentAsync(connection, runId, "train/loss", CancellationToken.None);
        await CurveTestData.WritePointsAsync(app, runId, points[10_000..20_000], publish: false);

        await CurveTestData.WritePointsAsync(app, runId, points[20_000..], publish: true);
        var rolled = await WaitForRolledAsync(runId, 1, 29_999);

        Assert.Equal(30_000, rolled.Series[0].Count);
        AssertSameTiers(await RebuiltFromTableAsync(runId, "train/loss"), rolled);
    }

    [Fact]
    public async Task After_a_resume_the_roller_does_not_bring_back_the_replaced_points()
    {
        var curves = app.Services.GetRequiredService<CurveService>();
        var runId = await CurveTestData.CreateRunAsync(app, startedBy: "member3", status: RunStatus.Lost);
        var before = CurveTestData.Curve("train/loss", 1, 10_000).Select(p => p with { Value = 1.0 }).ToList();
        // The roller may or may not have rolled these before the resume replaces half of them: either way the
        // chart must end up with the new points only.
        await CurveTestData.WritePointsAsync(app, runId, before, publish: true);
        await using (var db = await app.DbFactory.CreateDbContextAsync())
            await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(r => r.SetProperty(x => x.LastCheckpointStep, 5_000L));
        using (var scope = app.Services.CreateScope())
        {
            var lead = await app.WithDbAsync(db => db.Users.Where(u => u.UserName == "techlead").Select(u => u.Id).SingleAsync());
            await scope.ServiceProvider.GetRequiredService<RunService>().ResumeAsync(new Actor(lead, "techlead", new HashSet<string> { "Lead" }), runId);
        }

        var after = CurveTestData.Curve("train/loss", 5_001, 3_000).Select(p => p with { Value = 5.0 }).ToList();
        await CurveTestData.WritePointsAsync(app, runId, after, publish: true);
        var rolled = await WaitForRolledAsync(runId, 1, 8_000);

        Assert.Equal(8_000, Assert.Single(rolled.Series).Count);
        var data = Assert.Single(await curves.GetSeriesAsync([runId], "train/loss", null, null));
        Assert.Equal(8_000, data.Count);
        var shown = data.Steps.Zip(data.Values).ToList();
        Assert.All(shown.Where(p => p.First > 5_000), p => Assert.Equal(5.0, p.Second));
        Assert.All(shown.Where(p => p.First <= 5_000), p => Assert.Equal(1.0, p.Second));
        AssertSameTiers(await RebuiltFromTableAsync(runId, "train/loss"), rolled);
    }

    /// <summary>Waits until the roller (once a second) has rolled every series of the run up to the step.</summary>
    private async Task<(List<CurveRollup> Tiers, List<CurveSeries> Series)> WaitForRolledAsync(long runId, int series, long step)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var tiers = await ReadTiersAsync(runId);
            if (tiers.Series.Count == series && tiers.Series.All(s => s.RolledUpToStep == step)) return tiers;
            await Task.Delay(100, timeout.Token);
        }
    }
}
