using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Projects;

/// <summary>What a lead enters to create or edit a project: the paper, its reference code, its claims, the tolerance.</summary>
public sealed class ProjectForm
{
    public string Name { get; set; } = "";
    public string Summary { get; set; } = "";
    public string PaperTitle { get; set; } = "";
    public string PaperAuthors { get; set; } = "";
    public int PaperYear { get; set; } = DateTime.UtcNow.Year;
    public string PaperUrl { get; set; } = "";
    public double Tolerance { get; set; } = 1.0;
    public int ClaimLimitPerMember { get; set; } = 3;
    public int LostRunRestarts { get; set; } = ProjectDefaults.LostRunRestarts;
    public List<ClaimForm> Claims { get; set; } = [];
    public List<ReferenceForm> References { get; set; } = [];

    public sealed class ClaimForm
    {
        public string Metric { get; set; } = "AP";
        public string Dataset { get; set; } = "COCO";
        public string Split { get; set; } = "test-dev";
        public double Value { get; set; }
        public string Source { get; set; } = "";
    }

    public sealed class ReferenceForm
    {
        public string RepositoryUrl { get; set; } = "";
        public string Framework { get; set; } = "";
        public string WeightsUrl { get; set; } = "";
    }

    public static ProjectForm From(Project p) => new()
    {
        Name = p.Name, Summary = p.Summary, PaperTitle = p.PaperTitle, PaperAuthors = p.PaperAuthors, PaperYear = p.PaperYear,
        PaperUrl = p.PaperUrl, Tolerance = p.Tolerance, ClaimLimitPerMember = p.ClaimLimitPerMember,
        LostRunRestarts = p.LostRunRestarts,
        Claims = p.Claims.Select(c => new ClaimForm { Metric = c.Metric, Dataset = c.Dataset, Split = c.Split, Value = c.Value, Source = c.Source }).ToList(),
        References = p.References.Select(r => new ReferenceForm { RepositoryUrl = r.RepositoryUrl, Framework = r.Framework, WeightsUrl = r.WeightsUrl }).ToList(),
    };

    /// <summary>The one rule for a tolerance, for the project form and for any other place that sets one.</summary>
    public static void ValidateTolerance(double tolerance)
    {
        if (double.IsNaN(tolerance) || tolerance < 0) throw PortalError.Validation("The tolerance cannot be below zero.");
        if (tolerance > 100) throw PortalError.Validation("The tolerance is at most 100 points.");
    }

    public void Validate()
    {
        Require(Name, "A project needs a name.", 200, "name");
        Limit(Summary, 2000, "summary");
        Require(PaperTitle, "Give the paper's title.", 500, "paper title");
        Limit(PaperAuthors, 1000, "author list");
        if (PaperYear is < 1950 or > 2100) throw PortalError.Validation("The paper's year must be between 1950 and 2100.");
        RequireUrl(PaperUrl, "paper link", required: false);
        ValidateTolerance(Tolerance);
        if (ClaimLimitPerMember is < 1 or > 50) throw PortalError.Validation("The claim limit per member must be between 1 and 50.");
        if (LostRunRestarts is < 0 or > 20) throw PortalError.Validation("A Lost run can be restarted automatically 0 to 20 times.");
        if (Claims.Count > 100) throw PortalError.Validation("A project can have at most 100 claims.");
        foreach (var c in Claims)
        {
            Require(c.Metric, "Every claim needs a metric (e.g. AP).", 100, "metric");
            Require(c.Dataset, $"The claim {c.Metric} needs a dataset.", 100, "dataset");
            Require(c.Split, $"The claim {c.Metric} needs a split (e.g. test-dev): numbers on different splits cannot be compared.", 100, "split");
            Require(c.Source, $"Say where in the paper the claim {c.Metric} comes from (table or section).", 300, "source");
            if (double.IsNaN(c.Value) || double.IsInfinity(c.Value)) throw PortalError.Validation($"The claim {c.Metric} needs a value.");
        }
        if (References.Count > 20) throw PortalError.Validation("A project can have at most 20 reference implementations.");
        foreach (var r in References)
        {
            RequireUrl(r.RepositoryUrl, "reference repository", required: true);
            Require(r.Framework, "Say which framework each reference implementation uses.", 100, "framework");
            RequireUrl(r.WeightsUrl, "weights link", required: false);
        }
    }

    private static void Require(string? value, string message, int max, string what)
    {
        if (string.IsNullOrWhiteSpace(value)) throw PortalError.Validation(message);
        Limit(value, max, what);
    }

    private static void Limit(string? value, int max, string what)
    {
        if ((value ?? "").Length > max) throw PortalError.Validation($"The {what} may have at most {max} characters.");
    }

    private static void RequireUrl(string? value, string what, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required) throw PortalError.Validation($"Give the {what}.");
            return;
        }
        Limit(value, 500, what);
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw PortalError.Validation($"The {what} must be an http or https address.");
    }
}
