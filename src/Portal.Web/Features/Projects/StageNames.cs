namespace Portal.Web.Features.Projects;

public static class StageNames
{
    public static string Label(this ReproductionStage stage) => stage switch
    {
        ReproductionStage.ModelSelection => "0 · Model selection",
        ReproductionStage.PaperAnalysis => "1 · Paper analysis",
        ReproductionStage.Design => "2 · Design",
        ReproductionStage.Implementation => "3 · Implementation",
        ReproductionStage.DifferentialTesting => "4 · Differential testing",
        ReproductionStage.Training => "5 · Integration and training",
        ReproductionStage.Evaluation => "6 · Evaluation",
        ReproductionStage.Portability => "7 · Portability",
        ReproductionStage.Release => "8 · Code review and release",
        _ => stage.ToString(),
    };
}
