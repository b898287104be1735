using System.Threading.Channels;
using Microsoft.Data.Sqlite;
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
/// The one writer of metric points. Requests from every agent queue in a channel; the writer takes whatever is
/// waiting and stores it in one transaction with a prepared INSERT ... ON CONFLICT DO NOTHING, so a point sent
/// twice is stored once. A request is answered only after its transaction committed; the new points are then
/// published to <see cref="MetricStream"/>.
/// </summary>
public sealed class MetricWriter(IDbContextFactory<PortalDbContext> dbFactory, MetricStream stream, LiveUpdates live, TimeProvider clock,
    IOptions<RunsOptions> options, ILogger<MetricWriter> logger) : BackgroundService
{
    /// <summary>The metric names of runs seen lately, to hold each run to <see cref="RunsOptions.MaxMetricNamesPerRun"/>.</summary>
    private readonly Dictionary<long, HashSet<string>> _names = [];

    /// <summary>Run pages show the step and point count; they are told at most this often, not per batch.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<long, DateTimeOffset> _progressAnnounced = [];

    /// <summary>
    /// A transaction takes waiting requests until it holds this many points. Small groups commit and answer sooner,
    /// so a sender prepares its next batch while the writer stores someone else's (with WAL and synchronous=NORMAL a
    /// commit costs little); one large group would leave every sender waiting on the same commit.
    /// </summary>
    private const int MaxPointsPerTransaction = AgentProtocol.MaxPointsPerBatch;

    private readonly Channel<Request> _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public async Task<MetricWriteResult> WriteAsync(long runId, long agentId, IReadOnlyList<MetricPointDto> points, CancellationToken cancellationToken)
    {
        var request = new Request(runId, agentId, points, new TaskCompletionSource<MetricWriteResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken);
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
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var connection = await RawSqlite.OpenAsync(dbFactory, CancellationToken.None);
        var commands = new Commands(connection);

        var group = new List<Request>();
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            group.Clear();
            var points = 0;
            while (points < MaxPointsPerTransaction && _queue.Reader.TryRead(out var request))
            {
                group.Add(request);
                points += request.Points.Count;
            }
            if (group.Count == 0) continue;
            var results = WriteGroup(connection, commands, group);
            for (var i = 0; i < group.Count; i++) group[i].Done.TrySetResult(results[i].Result);
            foreach (var (request, (result, fresh)) in group.Zip(results))
            {
                if (fresh.Count == 0) continue;
                await stream.PublishAsync(request.RunId, fresh);
                AnnounceProgress(request.RunId);
            }
        }
        commands.Dispose();
    }

    private void AnnounceProgress(long runId)
    {
        var now = clock.GetUtcNow();
        if (_progressAnnounced.TryGetValue(runId, out var last) && now - last < ProgressInterval) return;
        _progressAnnounced[runId] = now;
        if (_progressAnnounced.Count > 10_000) _progressAnnounced.Clear(); // finished runs need no entry
        live.Publish(Topics.Run(runId), Topics.Agents);
    }

    private List<(MetricWriteResult Result, List<MetricPointDto> Fresh)> WriteGroup(SqliteConnection connection, Commands c, List<Request> group)
    {
        var results = new List<(MetricWriteResult, List<MetricPointDto>)>(group.Count);
        try
        {
            using var transaction = connection.BeginTransaction();
            c.Enlist(transaction);
            foreach (var request in group)
            {
                c.FindRunId.Value = c.RunId.Value = c.LastStepRunId.Value = request.RunId;
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
                var names = NamesOf(c, request.RunId);
                var maxNames = options.Value.MaxMetricNamesPerRun;
                List<RejectedPoint>? rejected = null;
                var fresh = new List<MetricPointDto>();
                long maxStep = 0;
                foreach (var p in request.Points)
                {
                    if (!names.Contains(p.Name))
                    {
                        if (names.Count >= maxNames)
                        {
                            (rejected ??= []).Add(new RejectedPoint(Notes.Name(p.Name), p.Step,
                                $"The run already has {maxNames} metric names, the most a run may have."));
                            continue;
                        }
                        names.Add(p.Name);
                    }
                    c.Name.Value = p.Name;
                    c.Step.Value = p.Step;
                    c.Value.Value = NaNSentinel.ToStored(p.Value);
                    c.WallTime.Value = RawSqlite.ToStoredTime(p.WallTime);
                    if (c.Insert.ExecuteNonQuery() == 1) fresh.Add(p);
                    if (p.Step > maxStep) maxStep = p.Step;
                }
                c.LastStep.Value = maxStep;
                c.UpdateLastStep.ExecuteNonQuery();
                results.Add((new MetricWriteResult(request.Points.Count - (rejected?.Count ?? 0), fresh.Count, null, Rejected: rejected), fresh));
            }
            transaction.Commit();
            c.Enlist(null);
            return results;
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException)
        {
            c.Enlist(null);
            _names.Clear(); // names of the rolled-back points may be in it
            logger.LogError(e, "Writing {Requests} metric batches failed", group.Count);
            var failed = new MetricWriteResult(0, 0, $"The portal could not store the batch ({e.Message}); send it again.", Retryable: true);
            return group.Select(_ => (failed, new List<MetricPointDto>())).ToList();
        }
    }

    private HashSet<string> NamesOf(Commands c, long runId)
    {
        if (_names.TryGetValue(runId, out var names)) return names;
        if (_names.Count > 1_000) _names.Clear(); // finished runs need no entry
        names = new HashSet<string>(StringComparer.Ordinal);
        c.NamesRunId.Value = runId;
        using (var reader = c.Names.ExecuteReader())
            while (reader.Read()) names.Add(reader.GetString(0));
        _names[runId] = names;
        return names;
    }

    private sealed record Request(long RunId, long AgentId, IReadOnlyList<MetricPointDto> Points, TaskCompletionSource<MetricWriteResult> Done);

    /// <summary>The writer's prepared commands and their parameters, reused for every point.</summary>
    private sealed class Commands : IDisposable
    {
        public readonly SqliteCommand FindRun, Insert, UpdateLastStep, Names;
        public readonly SqliteParameter FindRunId, RunId, Name, Step, Value, WallTime, LastStepRunId, LastStep, NamesRunId;

        public Commands(SqliteConnection connection)
        {
            FindRunId = new SqliteParameter("$run", SqliteType.Integer);
            RunId = new SqliteParameter("$run", SqliteType.Integer);
            Name = new SqliteParameter("$name", SqliteType.Text);
            Step = new SqliteParameter("$step", SqliteType.Integer);
            Value = new SqliteParameter("$value", SqliteType.Real);
            WallTime = new SqliteParameter("$wall", SqliteType.Integer);
            LastStepRunId = new SqliteParameter("$run", SqliteType.Integer);
            LastStep = new SqliteParameter("$step", SqliteType.Integer);
            NamesRunId = new SqliteParameter("$run", SqliteType.Integer);
            FindRun = Create(connection, "SELECT AgentId, Status FROM Runs WHERE Id = $run", FindRunId);
            Names = Create(connection, "SELECT DISTINCT Name FROM MetricPoints WHERE RunId = $run", NamesRunId);
            Insert = Create(connection,
                "INSERT INTO MetricPoints (RunId, Name, Step, Value, WallTime) VALUES ($run, $name, $step, $value, $wall) " +
                "ON CONFLICT (RunId, Name, Step) DO NOTHING", RunId, Name, Step, Value, WallTime);
            UpdateLastStep = Create(connection, "UPDATE Runs SET LastStep = MAX(LastStep, $step) WHERE Id = $run", LastStepRunId, LastStep);
        }

        private static SqliteCommand Create(SqliteConnection connection, string sql, params SqliteParameter[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var p in parameters) command.Parameters.Add(p);
            command.Prepare();
            return command;
        }

        public void Enlist(SqliteTransaction? transaction) =>
            FindRun.Transaction = Insert.Transaction = UpdateLastStep.Transaction = Names.Transaction = transaction;

        public void Dispose()
        {
            FindRun.Dispose();
            Insert.Dispose();
            UpdateLastStep.Dispose();
            Names.Dispose();
        }
    }
}
