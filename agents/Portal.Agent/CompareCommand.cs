using Portal.Training.Differential;
using Portal.Training.Models;

namespace Portal.Agent;

/// <summary>
/// `Portal.Agent compare --recipe yolov4-tiny --reference DIR [--json] [--plant FAULT]`: the differential comparison
/// without a portal. Exit code 0 when every tensor is within tolerance, 1 when one diverges, 2 when the comparison
/// could not run (bad arguments or a reference folder it refuses).
/// </summary>
public static class CompareCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string? recipe = null, reference = null, plant = null;
        var json = false;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--recipe" when i + 1 < args.Length: recipe = args[++i]; break;
                case "--reference" when i + 1 < args.Length: reference = args[++i]; break;
                case "--plant" when i + 1 < args.Length: plant = args[++i]; break;
                case "--json": json = true; break;
                default:
                    error.WriteLine($"Unknown or incomplete argument '{args[i]}'.");
                    return Usage(error);
            }
        }
        if (recipe is null || reference is null) return Usage(error);
        if (recipe != DifferentialComparison.Recipe)
        {
            error.WriteLine($"Unknown recipe '{recipe}' for a differential comparison: the known one is {DifferentialComparison.Recipe}.");
            return 2;
        }
        Yolov4TinyOptions? variant = null;
        if (plant is not null && !DifferentialJob.Faults.TryGetValue(plant, out variant))
        {
            error.WriteLine($"Unknown fault '{plant}': use one of {string.Join(", ", DifferentialJob.Faults.Keys)}.");
            return 2;
        }
        try
        {
            using var folder = ReferenceFolder.Load(reference, [DifferentialComparison.Recipe]);
            var report = DifferentialComparison.Run(folder, variant);
            output.Write(json ? ReportFormat.ToJson(report, indented: true) + Environment.NewLine : ReportFormat.ToTable(report));
            return report.Passed ? 0 : 1;
        }
        catch (DifferentialException e)
        {
            error.WriteLine(e.Message);
            return 2;
        }
    }

    private static int Usage(TextWriter error)
    {
        error.WriteLine("Usage: Portal.Agent compare --recipe yolov4-tiny --reference DIR [--json] [--plant " + string.Join("|", DifferentialJob.Faults.Keys) + "]");
        error.WriteLine("DIR holds what `/usr/bin/python3 agents/reference/yolov4_tiny.py --out DIR` wrote.");
        return 2;
    }
}
