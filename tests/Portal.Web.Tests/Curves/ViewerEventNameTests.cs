using System.Text.RegularExpressions;
using Portal.Web.Features.Curves;

namespace Portal.Web.Tests.Curves;

/// <summary>
/// The viewers' hub calls the methods of <see cref="IMetricsViewer"/> by name; the chart module must listen to
/// exactly those names, or live points stop arriving without an error on either side.
/// </summary>
public sealed partial class ViewerEventNameTests
{
    [Fact]
    public void The_chart_module_listens_to_exactly_the_methods_of_the_viewer_interface()
    {
        var hubCalls = typeof(IMetricsViewer).GetMethods().Select(m => m.Name).Order().ToList();

        var script = File.ReadAllText(Path.Combine(RepoRoot(), "wwwroot", "js", "curves", "live.js"));
        var listened = ListenCall().Matches(script).Select(m => m.Groups[1].Value).Order().ToList();

        Assert.NotEmpty(hubCalls);
        Assert.Equal(hubCalls, listened);
    }

    [Fact]
    public void No_other_chart_module_registers_a_hub_event()
    {
        var dir = Path.Combine(RepoRoot(), "wwwroot", "js", "curves");
        var elsewhere = Directory.GetFiles(dir, "*.js")
            .Where(f => Path.GetFileName(f) != "live.js" && ListenCall().IsMatch(File.ReadAllText(f)))
            .Select(Path.GetFileName).ToList();

        Assert.Empty(elsewhere);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
        throw new InvalidOperationException("Portal.sln not found above " + AppContext.BaseDirectory);
    }

    // connection.on('Name', ...) with either quote.
    [GeneratedRegex(@"\.on\(\s*['""]([A-Za-z_][A-Za-z0-9_]*)['""]")]
    private static partial Regex ListenCall();
}
