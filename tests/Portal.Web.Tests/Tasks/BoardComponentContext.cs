using Portal.Web.Tests.Testing;

namespace Portal.Web.Tests.Tasks;

/// <summary>bUnit for the board, stage panel and activity components over a <see cref="BoardDatabase"/> (a small team and one project).</summary>
public abstract class BoardComponentContext : PortalComponentTest<BoardDatabase>
{
    protected override Task<BoardDatabase> StartHostAsync() => BoardDatabase.CreateAsync();
}
