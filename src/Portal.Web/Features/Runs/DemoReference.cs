namespace Portal.Web.Features.Runs;

/// <summary>The measured reference of the demo shapes project; docs/demo-shapes-reference.md says how it was measured.</summary>
public static class DemoReference
{
    public const double Ap50 = 0;

    /// <summary>The config of the run the demo queues for the local agent: short enough to finish in minutes on a CPU.</summary>
    public const string DemoRunConfig = "{}";
}
