using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Cluster;

/// <summary>
/// The cap on a run's metric names holds for the run, not per instance: each instance's writer knows only the names
/// it has seen, and the database settles what another instance stored meanwhile.
/// </summary>
public sealed class MetricNameCapAcrossInstancesTests : IAsyncLifetime
{
    private const int Cap = 5;
    private TwoInstances _cluster = null!;

    public Task InitializeAsync()
    {
        _cluster = new TwoInstances(app => app.Settings["Portal:Runs:MaxMetricNamesPerRun"] = Cap.ToString());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_name_new_to_one_instance_is_refused_when_the_other_instance_already_filled_the_run()
    {
        var (agent, runId, agentId, a, b) = await RunningAsync();
        await using var _ = agent;
        Assert.Empty(await WriteAsync(b, runId, agentId, "m0"));
        // A reads m0 from the database and adds the rest up to the cap; B still knows m0 only.
        Assert.Empty(await WriteAsync(a, runId, agentId, "m1", "m2", "m3", "m4"));

        var refused = await WriteAsync(b, runId, agentId, "m5");

        Assert.Equal("m5", Assert.Single(refused).Name);
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], await NamesAsync(runId));
    }

    [Fact]
    public async Task Two_instances_offering_new_names_at_once_store_exactly_the_cap_between_them()
    {
        var (agent, runId, agentId, a, b) = await RunningAsync();
        await using var _ = agent;

        var writes = Enumerable.Range(0, 10).SelectMany(i => new[]
        {
            WriteAsync(a, runId, agentId, $"a{i}"),
            WriteAsync(b, runId, agentId, $"b{i}"),
        }).ToList();
        var refused = (await Task.WhenAll(writes)).Sum(r => r.Count);

        Assert.Equal(Cap, (await NamesAsync(runId)).Count);
        Assert.Equal(20 - Cap, refused);
    }

    /// <summary>A run taken by an agent connected to A (and kept connected, so the run stays its own).</summary>
    private async Task<(TestAgent Agent, long RunId, long AgentId, MetricWriter A, MetricWriter B)> RunningAsync()
    {
        var (a, b) = (_cluster.A, _cluster.B);
        var (agent, runId) = await AgentTestData.AgentWithRunAsync(a, "names-box");
        var agentId = (await AgentTestData.RunAsync(a, runId)).AgentId!.Value;
        return (agent, runId, agentId, a.Services.GetRequiredService<MetricWriter>(), b.Services.GetRequiredService<MetricWriter>());
    }

    /// <summary>One point of each name, written by the instance's own writer; the points it refused.</summary>
    private static async Task<IReadOnlyList<RejectedPoint>> WriteAsync(MetricWriter writer, long runId, long agentId, params string[] names)
    {
        var result = await writer.WriteAsync(runId, agentId, names.Select(n => new MetricPointDto(n, 0, 1, DateTimeOffset.UtcNow)).ToList(), CancellationToken.None);
        Assert.Null(result.Error);
        return result.Rejected ?? [];
    }

    private Task<List<string>> NamesAsync(long runId) =>
        _cluster.A.WithDbAsync(db => db.MetricPoints.Where(p => p.RunId == runId).Select(p => p.Name).Distinct().OrderBy(n => n).ToListAsync());
}
