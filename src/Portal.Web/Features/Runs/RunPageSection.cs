namespace Portal.Web.Features.Runs;

/// <summary>
/// A part of the run page that another feature draws (the curves), registered by that feature so that runs do not
/// depend on it. The component takes the run's id and its project as the parameters named here.
/// </summary>
public sealed record RunPageSection(Type Component)
{
    public const string RunIdParameter = "RunId";
    public const string ProjectIdParameter = "ProjectId";

    public IDictionary<string, object?> Parameters(Run run) =>
        new Dictionary<string, object?> { [RunIdParameter] = run.Id, [ProjectIdParameter] = run.ProjectId };
}
