using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Contracts;
using Portal.Testing;
using Portal.Testing.Curves;
using Portal.Web.Features.Curves;

namespace Portal.Benchmarks.Curves;

/// <summary>
/// Latency from an agent's send to the point reaching chart viewers: a real agent connection (agent token,
/// MessagePack, Register, TakeJob on a queued run) sends each batch with SendMetrics to /hubs/agents, and N real
/// viewer connections (JSON protocol, sign-in cookie, like the browser's chart) watch the run on /hubs/metrics.
/// Each batch is timed from just before its SendMetrics call to each viewer's Points handler. Everything runs in
/// this one process on loopback. The older, shorter paths stay as options: "store" times from the start of a direct
/// SQLite write (as the metric writer does it) plus MetricStream.PublishAsync, "publish" from PublishAsync alone.
/// Usage: curves-latency [viewers=100,1000] [batches=200] [points-per-batch=10] [interval-ms=50] [agent|store|publish]
/// </summary>
public sealed class CurveLatencyBenchmark : IBenchmark
{
    public string Name => "curves-latency";
    public string Description => "agent send -> chart viewer latency, p50/p99, with 100 and 1000 viewers";

    public async Task<int> RunAsync(string[] args)
    {
        var viewerCounts = (args.Length > 0 ? args[0] : "100,1000").Split(',').Select(int.Parse).ToArray();
        var batches = args.Length > 1 ? int.Parse(args[1]) : 200;
        var perBatch = args.Length > 2 ? int.Parse(args[2]) : 10;
        var intervalMs = args.Length > 3 ? int.Parse(args[3]) : 50;
        var mode = args.Length > 4 ? args[4] : "agent";
        if (mode is not ("agent" or "store" or "publish")) throw new ArgumentException($"Unknown mode '{mode}': agent, store or publish.");

        using var app = LivePortal.CreateApp();
        var server = app.ServerAddress;
        var cookies = await LivePortal.SignInAsync(server, "mentor1");
        var stream = app.Services.GetRequiredService<Portal.Web.Features.Runs.MetricStream>();
        var secret = await LivePortal.AddAgentTokenAsync(app);
        Console.WriteLine($"{Environment.ProcessorCount} cores, server, agent and viewers in one process on loopback; viewers: /hubs/metrics, JSON, cookie; timed from " +
                          mode switch
                          {
                              "agent" => "just before the agent's SendMetrics (/hubs/agents, MessagePack, agent token)",
                              "store" => "the start of a direct SQLite write + MetricStream.PublishAsync (no agent)",
                              _ => "MetricStream.PublishAsync (no agent, no write)",
                          });
        var met = true;
        foreach (var viewers in viewerCounts)
        {
            HubConnection? agent = null;
            long runId;
            if (mode == "agent") (agent, runId) = await LivePortal.ConnectAgentWithRunAsync(app, secret, $"bench-latency-{viewers}", viewers);
            else runId = await CurveTestData.CreateRunAsync(app);
            var sentAt = new ConcurrentDictionary<long, long>();
            var latencies = new ConcurrentBag<double>();
            var received = 0L;
            var connections = new List<HubConnection>();
            var connect = Stopwatch.StartNew();
            for (var i = 0; i < viewers; i += 50)
            {
                var group = Enumerable.Range(i, Math.Min(50, viewers - i)).Select(_ => LivePortal.ConnectViewerAsync(server, cookies, [runId], "train/loss", message =>
                {
                    var now = Stopwatch.GetTimestamp();
                    // A message can carry several batches (the fan-out merges what queued up): time each batch.
                    foreach (var step in message.Decode().Steps)
                    {
                        if (!sentAt.TryGetValue(step, out var sent)) continue;
                        latencies.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
                        Interlocked.Increment(ref received);
                    }
                }));
                connections.AddRange(await Task.WhenAll(group));
            }
            Console.WriteLine($"{viewers} viewers connected in {connect.ElapsedMilliseconds} ms");

            // Wall times are now: an agent reports when each point was measured.
            var points = CurveTestData.Curve("train/loss", 0, batches * perBatch, start: DateTimeOffset.UtcNow);
            for (var b = 0; b < batches; b++)
            {
                var batch = points.GetRange(b * perBatch, perBatch);
                sentAt[batch[0].Step] = Stopwatch.GetTimestamp();
                if (agent is not null) await LivePortal.SendAsync(agent, runId, b, batch);
                else if (mode == "store") await CurveTestData.WritePointsAsync(app, runId, batch);
                else await stream.PublishAsync(runId, batch);
                await Task.Delay(intervalMs);
            }
            var expected = (long)batches * viewers;
            var deadline = Stopwatch.StartNew();
            while (Interlocked.Read(ref received) < expected && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);

            var sorted = latencies.OrderBy(x => x).ToArray();
            var p99 = Percentile(sorted, 0.99);
            var target = viewers <= 100 ? 250 : 1000;
            met &= received == expected && p99 <= target;
            Console.WriteLine($"{mode} -> viewer, viewers={viewers} batches={batches}x{perBatch} points every {intervalMs} ms: delivered {received}/{expected}, " +
                              $"p50={Percentile(sorted, 0.50):0.0} ms p99={p99:0.0} ms max={sorted.LastOrDefault():0.0} ms (target p99 <= {target} ms)");
            await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));
            if (agent is not null) await agent.DisposeAsync();
        }
        return met ? 0 : 1;
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}

/// <summary>
/// A run with 1,000,000 points in one metric: time to build its tiers once, then the chart data served through
/// the real endpoint (/api/curves/series, loopback round trip, whole range and zoomed), and the chart drawn in
/// Debian Chromium (Playwright): fetch and uPlot draw timed inside the page.
/// Usage: curves-million [points=1000000] [requests=30]
/// </summary>
public sealed class CurveMillionBenchmark : IBenchmark
{
    public string Name => "curves-million";
    public string Description => "1M-point series: tier build, endpoint time, Chromium draw time";

    public async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
        var requests = args.Length > 1 ? int.Parse(args[1]) : 30;
        using var app = LivePortal.CreateApp();
        var server = app.ServerAddress;
        var runId = await CurveTestData.CreateRunAsync(app);
        var points = CurveTestData.Curve("train/loss", 0, count);
        points[count / 3] = points[count / 3] with { Value = 1000 };

        var write = Stopwatch.StartNew();
        await CurveTestData.WritePointsAsync(app, runId, points, publish: false);
        Console.WriteLine($"{Environment.ProcessorCount} cores; wrote {count:N0} points in {write.ElapsedMilliseconds} ms");
        var curves = app.Services.GetRequiredService<CurveService>();
        var build = Stopwatch.StartNew();
        await curves.GetSeriesAsync([runId], "train/loss", null, null);
        Console.WriteLine($"tiers built for {count:N0} points in {build.ElapsedMilliseconds} ms (once; afterwards kept current per batch)");

        var cookies = await LivePortal.SignInAsync(server, "mentor1");
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = server };
        foreach (var (label, query) in new[]
                 {
                     ("whole range", $"api/curves/series?run={runId}&metric=train/loss"),
                     ("zoom 10%", $"api/curves/series?run={runId}&metric=train/loss&from={count / 2}&to={count / 2 + count / 10}"),
                     ("zoom 1,500 steps", $"api/curves/series?run={runId}&metric=train/loss&from={count / 3 - 700}&to={count / 3 + 799}"),
                 })
        {
            var times = new List<double>();
            var size = 0;
            for (var i = 0; i < requests + 3; i++)
            {
                var sw = Stopwatch.StartNew();
                var body = await client.GetStringAsync(query);
                if (i >= 3) times.Add(sw.Elapsed.TotalMilliseconds);
                size = body.Length;
            }
            times.Sort();
            Console.WriteLine($"endpoint {label}: p50={times[times.Count / 2]:0.0} ms max={times[^1]:0.0} ms over {requests} requests ({size:N0} bytes JSON)");
        }

        var browser = new BrowserFixture();
        await browser.InitializeAsync();
        try
        {
            var projectId = await app.WithDbAsync(db => db.Runs.Where(r => r.Id == runId).Select(r => r.ProjectId).FirstAsync());
            var page = await browser.SignInAsync(server, "mentor1");
            for (var i = 0; i < 5; i++)
            {
                await page.GotoAsync($"projects/{projectId}/compare?runs={runId}");
                var chart = "[data-testid=chart][data-metric=\"train/loss\"][data-ready=true]";
                await page.WaitForSelectorAsync(chart);
                Console.WriteLine($"chromium load {i + 1}: fetch {await page.GetAttributeAsync(chart, "data-fetch-ms")} ms, " +
                                  $"uPlot build+draw {await page.GetAttributeAsync(chart, "data-draw-ms")} ms, {await page.GetAttributeAsync(chart, "data-points")} points drawn");
            }
        }
        finally { await browser.DisposeAsync(); }
        return 0;
    }
}
