using Portal.Testing;

namespace Portal.Browser.Tests;

/// <summary>
/// One demo portal and one Chromium for the test classes that only read the demo: they sign in, open pages and
/// look, and leave nothing behind that another class could see (a refused form, a theme cookie in their own browser
/// context). Starting a portal with its demo data and a Chromium takes seconds per class on a loaded machine.
/// The classes of one collection run one after another, so none sees another's pages half-way. A class that
/// changes data keeps its own portal (IClassFixture), so that it starts from the demo as it is seeded.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReadOnlyDemo : ICollectionFixture<PortalAppFactory>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "Read-only demo portal";
}
