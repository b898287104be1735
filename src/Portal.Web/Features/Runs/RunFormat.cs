using System.Globalization;

namespace Portal.Web.Features.Runs;

public static class RunFormat
{
    /// <summary>A metric value as people read it; NaN and infinities are shown as such, not hidden.</summary>
    public static string Value(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "+inf",
        double.NegativeInfinity => "-inf",
        _ => value.ToString("0.####", CultureInfo.InvariantCulture),
    };

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB",
    };
}
