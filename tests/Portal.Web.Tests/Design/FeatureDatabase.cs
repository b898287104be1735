using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Testing;

namespace Portal.Web.Tests.Design;

/// <summary>The portal's services over a fresh database (<see cref="PortalTestHost"/>) with a clock the test moves.</summary>
public sealed class FeatureDatabase() : PortalTestHost(new ManualClock())
{
    public new ManualClock Clock => (ManualClock)base.Clock;

    public Task<Actor> AddUserAsync(string userName, params string[] roles) => AddUserAsync(userName, (IReadOnlyCollection<string>)roles);

    public async Task<long> AddProjectAsync(string name = "YOLOv4")
    {
        await using var db = CreateDbContext();
        var project = new Project { Name = name, CreatedAt = Clock.GetUtcNow() };
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        return project.Id;
    }
}

/// <summary>A clock that only moves when the test says so.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}
