using Portal.Web.Tests.Testing;

namespace Portal.Web.Tests.Design;

/// <summary>bUnit over a fresh <see cref="FeatureDatabase"/>.</summary>
public abstract class FeatureComponentTest : PortalComponentTest<FeatureDatabase>
{
    protected override Task<FeatureDatabase> StartHostAsync() => Task.FromResult(new FeatureDatabase());
}
