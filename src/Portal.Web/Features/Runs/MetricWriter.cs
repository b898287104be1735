using System.Threading.Channels;
using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Contracts;
using Portal.Web.Data;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Outcome of one write request: how many points are stored (new or already there) and which were refused, or why
/// none are: <c>Retryable</c> when the portal had a passing problem, <c>Frozen</c> when the agent's run is finished.
/// </summary>
public sealed record MetricWriteResult(int Stored, int New, string? Error, bool Retryable = false, bool Frozen = false,
    IReadOnlyList<RejectedPoint>? Rejected = null);

/// <summary>
/// The one writer of metric points. Requests from every agent queue in a channel (one per lane, see
/// <see cref="_lanes"/>); the writer takes whatever is waiting and stores it in one transaction with a prepared
/// INSERT ... ON CONFLICT DO NOTHING, so a point sent twice is stored once. A request is answered only after its
/// transaction committed; the new points are then published to <see cref="MetricStream"/>. On PostgreSQL the points
/// of a transaction go in by one binary COPY, and through a staging table and INSERT ... ON CONFLICT DO NOTHING only
/// when some were stored already (<see cref="PostgresPoints"/>): the same "each point once" key, whichever instance
/// writes it.
/// </summary>
public sealed class MetricWriter(IDbContextFactory<PortalDbContext> dbFactory, MetricStream stream, LiveUpdates live, TimeProvider clock,
    IOptions<RunsOptions> options, IOptions<PortalOptions> portal, ILogger<MetricWriter> logger) : BackgroundService
{
    /// <summary>Run pages show the step and point count; they are told at most this often, not per batch.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// On PostgreSQL the runs are split over <see cref="RunsOptions.PostgresWriterLanes"/> lanes by run id, each with
    /// its own connection. One lane's server process stores a group while another's prepares or commits the next,
    /// where a single connection leaves the server idle between groups and the portal idle during a COPY. A run
    /// stays in one lane, so its points are stored, acknowledged and published in the order they came, and lanes
    /// never wait on each other's locks (each takes only its own runs' rows). SQLite has one writer at a time: one lane.
    /// </summary>
    private readonly Lane[] _lanes = Enumerable.Range(0, portal.Value.UsesPostgres ? options.Value.PostgresWriterLanes : 1).Select(_ => new Lane()).ToArray();

    /// <summary>
    /// A transaction takes waiting requests until it holds this many points. Small groups commit and answer sooner,
    /// so a sender prepares its next batch while the writer stores someone else's (with WAL and synchronous=NORMAL a
    /// commit costs little); one large group would leave every sender waiting on the same commit.
    /// </summary>
    private const int MaxPointsPerTransaction = AgentProtocol.MaxPointsPerBatch;

    /// <summary>
    /// On PostgreSQL a group's commit costs a network round trip and a COPY its set-up, so a transaction takes up to
    /// this many points (whatever is waiting, never waiting for more).
    /// </summary>
    private const int MaxPointsPerPostgresTransaction = 10 * AgentProtocol.MaxPointsPerBatch;

    /// <summary>One writing loop: its queue, and what it remembers of the runs it writes.</summary>
    private sealed class Lane
    {
        public readonly Channel<Request> Queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(4096)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        /// <summary>The metric names of runs seen lately, to hold each run to <see cref="RunsOptions.MaxMetricNamesPerRun"/>.</summary>
        public readonly Dictionary<long, HashSet<string>> Names = [];

        public readonly Dictionary<long, DateTimeOffset> ProgressAnnounced = [];
    }

    private Lane LaneOf(long runId) => _lanes[(int)((ulong)runId % (ulong)_lanes.Length)];

    public async Task<MetricWriteResult> WriteAsync(long runId, long agentId, IReadOnlyList<MetricPointDto> points, CancellationToken cancellationToken)
    {
        var request = new Request(runId, agentId, points, new TaskCompletionSource<MetricWriteResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await LaneOf(runId).Queue.Writer.WriteAsync(request, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return new MetricWriteResult(0, 0, "The portal is shutting down; send the batch again after reconnecting.", Retryable: true);
        }
        return await request.Done.Task.WaitAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stop taking requests but write the ones already queued: their senders are waiting for the ack.
        foreach (var lane in _lanes) lane.Queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = _lanes.Select(lane => Task.Run(() => WriteLaneAsync(lane), CancellationToken.None)).ToList();
        while (running.Count > 0)
        {
            // A lane that failed fails the writer at once, as the single loop did, rather than when the others end.
            var ended = await Task.WhenAny(running);
            await ended;
            running.Remove(ended);
        }
    }

    private async Task WriteLaneAsync(Lane lane)
    {
        var queue = lane.Queue.Reader;
        // Opened on the first batch and again after the database went away: a PostgreSQL server that is down at
        // start-up or restarts mid-run costs the senders a retry, not the writer.
        DbConnection? connection = null;
        Commands? commands = null;

        var group = new List<Request>();
        var maxPoints = MaxPointsPerTransaction;
        while (await queue.WaitToReadAsync(CancellationToken.None))
        {
            group.Clear();
            var points = 0;
            while (points < maxPoints && queue.TryRead(out var request))
            {
                group.Add(request);
                points += request.Points.Count;
            }
            if (group.Count == 0) continue;
            List<(MetricWriteResult Result, List<MetricPointDto> Fresh)> results;
            try
            {
                if (connection is null)
                {
                    connection = await RawDb.OpenAsync(dbFactory, CancellationToken.None);
                    commands = new Commands(connection);
                    maxPoints = connection.IsPostgres() ? MaxPointsPerPostgresTransaction : MaxPointsPerTransaction;
                }
                results = WriteGroup(lane, connection, commands!, group);
            }
            catch (Exception e) when (e is DbException or InvalidOperationException or IOException or TimeoutException)
            {
                logger.LogError(e, "The database is unreachable; {Requests} metric batches go back to their senders", group.Count);
                results = Failed(group, e);
            }
            if (results.Any(r => r.Result.Retryable) && connection is not null && connection.IsPostgres())
            {
                // A broken PostgreSQL connection stays broken: the next group opens a fresh one, and the pool forgets
                // its idle connections to a server that may have restarted.
                Npgsql.NpgsqlConnection.ClearAllPools();
                commands?.Dispose();
                await connection.DisposeAsync();
                connection = null;
                commands = null;
            }
            PortalMeters.WriterQueue.Record(_lanes.Sum(l => l.Queue.Reader.Count));
            for (var i = 0; i < group.Count; i++) group[i].Done.TrySetResult(results[i].Result);
            foreach (var (request, (result, fresh)) in group.Zip(results))
            {
                if (fresh.Count == 0) continue;
                PortalMeters.PointsIngested.Add(fresh.Count);
                await stream.PublishAsync(request.RunId, fresh);
                AnnounceProgress(lane, request.RunId);
            }
        }
        commands?.Dispose();
        if (connection is not null) await connection.DisposeAsync();
    }

    private static List<(MetricWriteResult, List<MetricPointDto>)> Failed(List<Request> group, Exception e)
    {
        var failed = new MetricWriteResult(0, 0, $"The portal could not store the batch ({e.Message}); send it again.", Retryable: true);
        return group.Select(_ => (failed, new List<MetricPointDto>())).ToList();
    }

    private void AnnounceProgress(Lane lane, long runId)
    {
        var now = clock.GetUtcNow();
        if (lane.ProgressAnnounced.TryGetValue(runId, out var last) && now - last < ProgressInterval) return;
        lane.ProgressAnnounced[runId] = now;
        if (lane.ProgressAnnounced.Count > 10_000) lane.ProgressAnnounced.Clear(); // finished runs need no entry
        live.Publish(Topics.Run(runId), Topics.Agents);
    }

    private List<(MetricWriteResult Result, List<MetricPointDto> Fresh)> WriteGroup(Lane lane, DbConnection connection, Commands c, List<Request> group)
    {
        var results = new List<(MetricWriteResult, List<MetricPointDto>)>(group.Count);
        // PostgreSQL: the accepted points of the whole group go in by one binary COPY (see PostgresPoints).
        var staged = c.Copy is null ? null : new List<(int Request, MetricPointDto Point)>();
        var lockedRuns = c.LockRun is null ? null : new HashSet<long>();
        try
        {
            using var transaction = connection.BeginTransaction();
            c.Enlist(transaction);
            foreach (var request in group)
            {
                c.FindRunId.Value = c.LastStepRunId.Value = request.RunId;
                if (c.Insert is not null) c.RunId.Value = request.RunId;
                using (var reader = c.FindRun.ExecuteReader())
                {
                    if (!reader.Read())
                    {
                        results.Add((new MetricWriteResult(0, 0, $"Run {request.RunId} does not exist."), []));
                        continue;
                    }
                    var owner = reader.IsDBNull(0) ? (long?)null : reader.GetInt64(0);
                    if (owner != request.AgentId)
                    {
                        results.Add((new MetricWriteResult(0, 0, $"Run {request.RunId} is not assigned to this agent."), []));
                        continue;
                    }
                    var status = (RunStatus)reader.GetInt32(1);
                    if (status is not (RunStatus.Running or RunStatus.Lost))
                    {
                        results.Add((new MetricWriteResult(0, 0, $"Run {request.RunId} is {status}; a finished run takes no more points.", Frozen: true), []));
                        continue;
                    }
                }
                var names = NamesOf(lane, c, request.RunId);
                var maxNames = options.Value.MaxMetricNamesPerRun;
                List<RejectedPoint>? rejected = null;
                var fresh = new List<MetricPointDto>();
                long maxStep = 0;
                foreach (var p in request.Points)
                {
                    if (!names.Contains(p.Name))
                    {
                        // Another instance may have stored names of this run since they were read: on PostgreSQL a
                        // name new to this instance is counted against the database, under the run row's lock, which
                        // every writer of the run's points holds until its commit (UpdateLastStep takes it too). The
                        // names known here are stored ones, so once they reach the cap no query is needed to refuse.
                        if (c.LockRun is not null && names.Count < maxNames && lockedRuns!.Add(request.RunId))
                        {
                            c.LockRunId.Value = request.RunId;
                            c.LockRun.ExecuteNonQuery();
                            ReadNames(c, request.RunId, names);
                        }
                        if (!names.Contains(p.Name) && names.Count >= maxNames)
                        {
                            (rejected ??= []).Add(new RejectedPoint(Notes.Name(p.Name), p.Step,
                                $"The run already has {maxNames} metric names, the most a run may have."));
                            continue;
                        }
                        names.Add(p.Name);
                    }
                    if (staged is not null)
                    {
                        staged.Add((results.Count, p));
                    }
                    else
                    {
                        c.Name.Value = p.Name;
                        c.Step.Value = p.Step;
                        c.Value.Value = NaNSentinel.ToStored(p.Value);
                        c.WallTime.Value = RawSqlite.ToStoredTime(p.WallTime);
                        if (c.Insert!.ExecuteNonQuery() == 1) fresh.Add(p);
                    }
                    if (p.Step > maxStep) maxStep = p.Step;
                }
                c.LastStep.Value = maxStep;
                c.UpdateLastStep.ExecuteNonQuery();
                results.Add((new MetricWriteResult(request.Points.Count - (rejected?.Count ?? 0), fresh.Count, null, Rejected: rejected), fresh));
            }
            if (staged is { Count: > 0 })
            {
                var inserted = c.Copy!.Store(InKeyOrder(group, staged), (Npgsql.NpgsqlTransaction)transaction);
                foreach (var (index, point) in staged)
                {
                    // A point sent twice in one group is new for the first request that carried it.
                    if (inserted is null || inserted.Remove((group[index].RunId, point.Name, point.Step))) results[index].Item2.Add(point);
                }
                for (var i = 0; i < results.Count; i++)
                    if (results[i].Item1.Error is null) results[i] = (results[i].Item1 with { New = results[i].Item2.Count }, results[i].Item2);
            }
            transaction.Commit();
            c.Enlist(null);
            return results;
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or IOException or TimeoutException)
        {
            try { c.Enlist(null); } catch (InvalidOperationException) { }
            lane.Names.Clear(); // names of the rolled-back points may be in it
            logger.LogError(e, "Writing {Requests} metric batches failed", group.Count);
            return Failed(group, e);
        }
    }

    /// <summary>
    /// The staged points series by series (run, then metric), each series in the order it came. Agents log several
    /// metrics per step, so in arrival order every point goes to another leaf of the points table's key; one series
    /// after another, consecutive points land on the same leaf page, which PostgreSQL then finds in its cache.
    /// </summary>
    private static IEnumerable<(long RunId, MetricPointDto Point)> InKeyOrder(List<Request> group, List<(int Request, MetricPointDto Point)> staged)
    {
        var bySeries = new PointsBySeries();
        foreach (var (request, point) in staged) bySeries.Add(group[request].RunId, point);
        foreach (var ((runId, _), points) in bySeries.Series.OrderBy(s => s.Key.RunId).ThenBy(s => s.Key.Name, StringComparer.Ordinal))
            foreach (var point in points) yield return (runId, point);
    }

    private static HashSet<string> NamesOf(Lane lane, Commands c, long runId)
    {
        if (lane.Names.TryGetValue(runId, out var names)) return names;
        if (lane.Names.Count > 1_000) lane.Names.Clear(); // finished runs need no entry
        names = new HashSet<string>(StringComparer.Ordinal);
        ReadNames(c, runId, names);
        lane.Names[runId] = names;
        return names;
    }

    private static void ReadNames(Commands c, long runId, HashSet<string> names)
    {
        c.NamesRunId.Value = runId;
        using var reader = c.Names.ExecuteReader();
        while (reader.Read()) names.Add(reader.GetString(0));
    }

    private sealed record Request(long RunId, long AgentId, IReadOnlyList<MetricPointDto> Points, TaskCompletionSource<MetricWriteResult> Done);

    /// <summary>The writer's prepared commands and their parameters, reused for every point.</summary>
    private sealed class Commands : IDisposable
    {
        public readonly DbCommand FindRun, UpdateLastStep, Names;
        public readonly DbCommand? Insert;
        public readonly PostgresPoints? Copy;
        public readonly DbCommand? LockRun;
        public readonly DbParameter FindRunId, LastStepRunId, LastStep, NamesRunId;
        public readonly DbParameter LockRunId = null!;
        public readonly DbParameter RunId = null!, Name = null!, Step = null!, Value = null!, WallTime = null!;

        public Commands(DbConnection connection)
        {
            FindRun = Create(connection, """SELECT "AgentId", "Status" FROM "Runs" WHERE "Id" = @run""");
            FindRunId = FindRun.Add("@run", DbType.Int64);
            Names = Create(connection, """SELECT DISTINCT "Name" FROM "MetricPoints" WHERE "RunId" = @run""");
            NamesRunId = Names.Add("@run", DbType.Int64);
            UpdateLastStep = Create(connection, $"""UPDATE "Runs" SET "LastStep" = {connection.Greatest()}("LastStep", @step) WHERE "Id" = @run""");
            LastStepRunId = UpdateLastStep.Add("@run", DbType.Int64);
            LastStep = UpdateLastStep.Add("@step", DbType.Int64);
            if (connection.IsPostgres())
            {
                Copy = new PostgresPoints((Npgsql.NpgsqlConnection)connection);
                LockRun = Create(connection, """SELECT 1 FROM "Runs" WHERE "Id" = @run FOR UPDATE""");
                LockRunId = LockRun.Add("@run", DbType.Int64);
            }
            else
            {
                Insert = Create(connection,
                    """INSERT INTO "MetricPoints" ("RunId", "Name", "Step", "Value", "WallTime") VALUES (@run, @name, @step, @value, @wall) """ +
                    """ON CONFLICT ("RunId", "Name", "Step") DO NOTHING""");
                RunId = Insert.Add("@run", DbType.Int64);
                Name = Insert.Add("@name", DbType.String);
                Step = Insert.Add("@step", DbType.Int64);
                Value = Insert.Add("@value", DbType.Double);
                WallTime = Insert.Add("@wall", DbType.Int64);
            }
            foreach (var command in new[] { FindRun, Names, UpdateLastStep, Insert, LockRun }) command?.Prepare();
        }

        private static DbCommand Create(DbConnection connection, string sql)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            return command;
        }

        public void Enlist(DbTransaction? transaction)
        {
            FindRun.Transaction = UpdateLastStep.Transaction = Names.Transaction = transaction;
            if (Insert is not null) Insert.Transaction = transaction;
            if (LockRun is not null) LockRun.Transaction = transaction;
        }

        public void Dispose()
        {
            FindRun.Dispose();
            Insert?.Dispose();
            LockRun?.Dispose();
            UpdateLastStep.Dispose();
            Names.Dispose();
        }
    }
}
