using System.Text;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Releases;

/// <summary>
/// The model card: one "## " section per required heading. A section is filled when it has text and no TODO
/// marker; the prefill writes TODO where only a person can know the answer.
/// </summary>
public static class ModelCardTemplate
{
    public const string Todo = "TODO";

    public static readonly string[] Sections =
    [
        "Description", "Intended use", "Training data", "Evaluation data and split", "Metrics against the paper",
        "Hardware", "Limitations", "Licence", "Citation",
    ];

    public static IReadOnlyList<string> UnfilledSections(string markdown)
    {
        var filled = Parse(markdown);
        return Sections.Where(s => !filled.TryGetValue(s, out var body) || string.IsNullOrWhiteSpace(body)
                                   || body.Contains(Todo, StringComparison.Ordinal)).ToList();
    }

    /// <summary>Section heading to body, for the "## " headings of the card.</summary>
    public static Dictionary<string, string> Parse(string markdown)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? current = null;
        var body = new StringBuilder();
        foreach (var line in (markdown ?? "").ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                if (current is not null) result[current] = body.ToString().Trim();
                current = line[3..].Trim();
                body.Clear();
            }
            else if (current is not null) body.AppendLine(line);
        }
        if (current is not null) result[current] = body.ToString().Trim();
        return result;
    }

    /// <summary>A card with every section a computation can answer already written, and TODO in the rest.</summary>
    public static string Prefill(Project project, Release release, IReadOnlyList<ClaimResult> claims, IReadOnlyList<Run> runs)
    {
        var s = new StringBuilder();
        s.AppendLine($"# {release.Name} {release.Version}{(string.IsNullOrWhiteSpace(release.Variant) ? "" : $" ({release.Variant})")}").AppendLine();
        s.AppendLine("## Description").AppendLine();
        s.AppendLine($"{project.Summary} A reimplementation of \"{project.PaperTitle}\" ({project.PaperAuthors}, {project.PaperYear}), " +
                     $"built from commit `{(string.IsNullOrWhiteSpace(release.Commit) ? Todo : release.Commit)}`.").AppendLine();
        s.AppendLine("## Intended use").AppendLine().AppendLine($"{Todo}: who should use this model, for what, and for what not.").AppendLine();

        var datasets = runs.Select(r => r.Dataset).Where(d => d != "").Distinct().ToList();
        s.AppendLine("## Training data").AppendLine();
        s.AppendLine(datasets.Count > 0 ? $"{string.Join(", ", datasets)} ({Todo}: training split and pre-processing)." : $"{Todo}: dataset, split and pre-processing.").AppendLine();

        var splits = runs.Select(r => $"{r.Dataset} {r.Split}".Trim()).Where(x => x != "").Distinct().ToList();
        s.AppendLine("## Evaluation data and split").AppendLine();
        s.AppendLine(splits.Count > 0 ? $"Evaluated on {string.Join(", ", splits)}." : $"{Todo}: evaluation dataset and split.");
        foreach (var c in claims.Where(c => c.OtherSplit.Count > 0))
            s.AppendLine($"Note: the paper reports {c.Claim.Metric} on {c.Claim.Dataset} {c.Claim.Split}; runs on {string.Join(", ", c.OtherSplit.Select(v => v.Split).Distinct())} are not comparable.");
        s.AppendLine();

        s.AppendLine("## Metrics against the paper").AppendLine();
        if (claims.Count == 0) s.AppendLine($"{Todo}: the project has no paper claim.");
        else
        {
            s.AppendLine("| Metric | Dataset | Split | Paper | Reproduced (mean) | Std | Runs | Gap |");
            s.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var c in claims)
                s.AppendLine($"| {c.Claim.Metric} | {c.Claim.Dataset} | {c.Claim.Split} | {ReleaseGates.F(c.Claim.Value)} | " +
                             $"{(c.Mean is { } m ? ReleaseGates.F(m) : "-")} | {(c.StdDev is { } sd ? ReleaseGates.F(sd) : "-")} | {c.Counted.Count} | " +
                             $"{(c.Gap is { } g ? ReleaseGates.Signed(g) : "-")} |");
        }
        s.AppendLine();

        var hardware = runs.Select(r => r.HardwareJson).Where(h => !string.IsNullOrWhiteSpace(h)).Distinct().ToList();
        s.AppendLine("## Hardware").AppendLine();
        s.AppendLine(hardware.Count > 0 ? string.Join("\n", hardware.Select(h => $"- `{h}`")) : $"{Todo}: accelerators the runs trained on.").AppendLine();
        s.AppendLine("## Limitations").AppendLine().AppendLine($"{Todo}: known gaps to the paper, failure cases, biases.").AppendLine();
        s.AppendLine("## Licence").AppendLine().AppendLine($"{Todo}: the licence of the code and of the weights.").AppendLine();
        s.AppendLine("## Citation").AppendLine().AppendLine("```").AppendLine($"{project.PaperAuthors}. {project.PaperTitle}. {project.PaperYear}. {project.PaperUrl}").AppendLine("```");
        return s.ToString();
    }
}
