using System.Runtime.CompilerServices;
using Bunit;

namespace Portal.Web.Tests.Testing;

internal static class ComponentWaits
{
    /// <summary>
    /// bUnit's one-second default is shorter than a save and reload can take on a two-core CI machine that also runs
    /// PostgreSQL and the rest of the suite. A wait still ends as soon as its assertion holds, so a passing test is
    /// no slower; only a real failure takes the full ten seconds to report.
    /// </summary>
    [ModuleInitializer]
    internal static void AllowSlowMachines() => BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(10);
}
