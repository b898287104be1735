namespace Portal.Web;

/// <summary>
/// The web root is the repository's top-level wwwroot. A publish carries it beside the app;
/// a run from the source tree finds it by walking up from the project folder.
/// </summary>
public static class WebRootLocator
{
    public static string? Find(string[] args)
    {
        var configured = Environment.GetEnvironmentVariable("PORTAL_WEBROOT");
        if (!string.IsNullOrEmpty(configured)) return Path.GetFullPath(configured);

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
                    return Path.Combine(dir.FullName, "wwwroot");
                var beside = Path.Combine(dir.FullName, "wwwroot");
                if (Directory.Exists(beside) && File.Exists(Path.Combine(dir.FullName, "Portal.Web.dll")))
                    return beside;
            }
        }
        return null;
    }
}
