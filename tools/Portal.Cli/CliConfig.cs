using System.Text.Json;

namespace Portal.Cli;

/// <summary>The portal's address and the user's token, kept in a file only the user can read.</summary>
public sealed record CliConfig(string Url, string Token)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>PORTAL_CONFIG when set (scripts, CI, tests), otherwise ~/.portal/config.json.</summary>
    public static string DefaultPath() =>
        Environment.GetEnvironmentVariable("PORTAL_CONFIG") is { Length: > 0 } path
            ? path
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".portal", "config.json");

    public static CliConfig? Load(string path)
    {
        if (!File.Exists(path)) return null;
        return JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(path), Json);
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // Created with owner-only permissions, so the token is never readable by others, not even briefly.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(path, options))
        {
            JsonSerializer.Serialize(file, this, Json);
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
