namespace Portal.Benchmarks.Ingestion;

/// <summary>
/// CPU seconds spent by this process and by the PostgreSQL server (its postmaster, the backends it has reaped and the
/// live ones), read from /proc. On a shared machine elapsed time depends on everyone else; CPU time per point says
/// what the work itself costs.
/// </summary>
internal readonly record struct CpuTime(double Benchmark, double Postgres)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static CpuTime Now(int postgresProcessId) => new(
        System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        PostgresSeconds(postgresProcessId));

    public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.Benchmark - b.Benchmark, a.Postgres - b.Postgres);

    public string PerMillion(long points) =>
        $"CPU per million points: benchmark process (portal, agents, viewers) {Benchmark * 1e6 / points:0.0} s, PostgreSQL {Postgres * 1e6 / points:0.0} s";

    private static double PostgresSeconds(int postmaster)
    {
        // Fields 14-17 of /proc/PID/stat: utime, stime, and the reaped children's cutime, cstime.
        var total = Fields(postmaster) is { } main ? main[11] + main[12] + main[13] + main[14] : 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == postmaster) continue;
            if (Fields(pid) is { } f && (int)f[1] == postmaster) total += f[11] + f[12];
        }
        return total / TicksPerSecond;
    }

    /// <summary>The numeric fields after the command name (field 3 on), or null for a process that is gone.</summary>
    private static long[]? Fields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return rest.Skip(1).Select(s => long.TryParse(s, out var v) ? v : 0).Prepend(0).ToArray();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
