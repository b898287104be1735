namespace Portal.Web.Features.Runs;

/// <summary>The measured reference of the demo shapes project; docs/demo-shapes-reference.md says how it was measured.</summary>
public static class DemoReference
{
    /// <summary>AP50 as the recipe reports it (a fraction, like the runs' final metrics), measured 2026-11-27.</summary>
    public const double Ap50 = 0.9964;

    /// <summary>The config of the run the demo queues for the local agent: short enough to finish in minutes on a CPU.</summary>
    public const string DemoRunConfig = """
        {
          "steps": 600,
          "batchSize": 32,
          "learningRate": 0.003,
          "evalEvery": 100,
          "checkpointEvery": 100,
          "logEvery": 50,
          "trainImages": 2000,
          "valImages": 200,
          "imageSize": 64,
          "width": 16
        }
        """;
}
