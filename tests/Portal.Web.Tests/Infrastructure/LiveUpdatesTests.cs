using Microsoft.Extensions.Logging.Abstractions;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Infrastructure;

public sealed class LiveUpdatesTests
{
    [Fact]
    public async Task A_subscriber_hears_its_topic_and_nothing_after_disposing()
    {
        var live = new LiveUpdates(NullLogger<LiveUpdates>.Instance);
        var heard = new List<string>();
        var signal = new SemaphoreSlim(0);
        var subscription = live.Subscribe(Topics.Project(1), () => { heard.Add("p1"); signal.Release(); return Task.CompletedTask; });
        using var other = live.Subscribe(Topics.Project(2), () => { heard.Add("p2"); signal.Release(); return Task.CompletedTask; });

        live.Publish(Topics.Project(1));
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
        subscription.Dispose();
        live.Publish(Topics.Project(1), Topics.Project(2));
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));

        Assert.Equal(["p1", "p2"], heard);
    }

    [Fact]
    public async Task A_failing_subscriber_does_not_stop_the_others()
    {
        var live = new LiveUpdates(NullLogger<LiveUpdates>.Instance);
        var signal = new SemaphoreSlim(0);
        using var failing = live.Subscribe("t", () => throw new InvalidOperationException("boom"));
        using var healthy = live.Subscribe("t", () => { signal.Release(); return Task.CompletedTask; });
        live.Publish("t");
        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
