using Microsoft.AspNetCore.SignalR.Client;
using Portal.Contracts;
using Portal.Testing;
using Portal.Web.Features.Runs;
using Portal.Web.Tests.Agents;

namespace Portal.Web.Tests.Runs;

/// <summary>The portal stops in the middle of a run and starts again on the same data folder.</summary>
public sealed class PortalRestartTests
{
    [Fact]
    public async Task A_portal_restart_mid_run_loses_no_acknowledged_point_and_stores_none_twice()
    {
        var data = Path.Combine(Path.GetTempPath(), "portal-tests", "restart-" + Guid.NewGuid().ToString("N"));
        const int Batches = 40, PerBatch = 250;
        var next = 0; // first batch not yet acknowledged: like the agent's outbox, it is sent again until acked
        long runId;
        string token;

        using (var before = NewPortal(data))
        {
            (_, token) = await AgentTestData.CreateTokenAsync(before);
            runId = await AgentTestData.QueueRunAsync(before);
            await using var agent = await TestAgent.ConnectAsync(before.ServerAddress, token, "steady-box");
            Assert.Equal(runId, (await agent.TakeJobAsync())!.RunId);

            // Stop the portal while batches are in flight.
            var sending = Task.Run(async () =>
            {
                try
                {
                    while (next < Batches)
                    {
                        var ack = await agent.SendAsync(runId, next, Batch(next));
                        if (ack.Error is not null) return;
                        next++;
                    }
                }
                catch (Exception) { /* the connection went down with the portal: unacked batches stay for later */ }
            });
            await AgentTestData.EventuallyAsync(() => Task.FromResult(next >= 10), "some batches acknowledged");
            before.Dispose();
            await sending;
        }
        Assert.InRange(next, 10, Batches - 1);

        using var after = NewPortal(data);
        await using (var agent = await TestAgent.ConnectAsync(after.ServerAddress, token, "steady-box", running: [runId]))
        {
            Assert.Empty(agent.Welcome.RunsToCancel);
            for (var b = Math.Max(0, next - 2); b < Batches; b++) // the last acked ones too, as a real outbox might
                Assert.Null((await agent.SendAsync(runId, b, Batch(b))).Error);
            await agent.FinishAsync(runId, RunOutcomeStatus.Succeeded, Batches * PerBatch - 1);
        }

        Assert.Equal(Batches * PerBatch * 2, await AgentTestData.PointCountAsync(after, runId));
        Assert.Equal(RunStatus.Succeeded, (await AgentTestData.RunAsync(after, runId)).Status);
        static IEnumerable<MetricPointDto> Batch(int b) =>
            TestAgent.Points("loss", b * PerBatch, (b + 1) * PerBatch - 1).Concat(TestAgent.Points("acc", b * PerBatch, (b + 1) * PerBatch - 1));
    }

    private static PortalAppFactory NewPortal(string data)
    {
        var app = new PortalAppFactory();
        app.Settings["Portal:DataDirectory"] = data;
        AgentTestData.UseFastHeartbeats(app);
        return app;
    }
}
