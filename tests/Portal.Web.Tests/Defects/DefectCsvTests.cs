using Portal.Web.Features.Defects;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Defects;

public sealed class DefectCsvTests
{
    [Fact]
    public void Exported_defects_read_back_with_the_same_values()
    {
        var defects = new[]
        {
            new Defect
            {
                Title = "BN momentum, \"0.99\" vs 0.1", DescriptionMarkdown = "Line one,\nline two", Component = ModelComponent.Backbone,
                Status = DefectStatus.Diagnosed, IsBlocking = true, Reporter = ReporterKind.Replicator, Manifestation = DefectManifestation.Reproducibility,
                Stage = DefectStage.Modeling, Impact = DefectImpact.LowerAccuracy, Type = DefectType.AssignmentInitialization, RootCause = RootCause.LayerProperties,
            },
            new Defect
            {
                Title = "Mosaic differs", Component = ModelComponent.DataPipeline, Status = DefectStatus.WontFix, Reporter = ReporterKind.Other,
                Manifestation = DefectManifestation.Evolutionary, Stage = DefectStage.DataPipeline, Impact = DefectImpact.Other,
                Type = DefectType.AlgorithmMethod, RootCause = RootCause.DataPreprocessing, OtherText = "internal port",
            },
        };

        var csv = DefectCsv.Write(defects);
        var read = DefectCsv.Read(csv);

        Assert.True(read.Ok, string.Join(" ", read.Errors));
        Assert.StartsWith("Title,Description,Component,Status,Blocking,Reporter,Manifestation,Part of Implementation,Impacts,Defect types,Root Causes,Other", csv);
        Assert.Equal(2, read.Rows.Count);
        for (var i = 0; i < 2; i++)
        {
            var (d, r) = (defects[i], read.Rows[i]);
            Assert.Equal((d.Title, d.DescriptionMarkdown, d.Component, d.Status, d.IsBlocking), (r.Form.Title, r.Form.Description, r.Form.Component, r.Status, r.Blocking));
            Assert.Equal((d.Reporter, d.Manifestation, d.Stage, d.Impact, d.Type, d.RootCause, d.OtherText ?? ""),
                (r.Form.Reporter, r.Form.Manifestation, r.Form.Stage, r.Form.Impact, r.Form.Type, r.Form.RootCause, r.Form.OtherText));
        }
    }

    [Fact]
    public void The_studys_spellings_read_whatever_their_case()
    {
        const string Csv = "title,component,REPORTER,Manifestation,part of implementation,Impacts,Defect types,Root Causes,Other\n"
                           + "x,infrastructure,re-user,BASIC DEFECTS,data  pipeline,bad performance (lower accuracy),Non-functional defects,gpu usage bug,\n"
                           + "y,loss,Adaptor,Evolutionary defects,Environment,Low frequency type,external interface,Wrong environment configuration,rare\n";

        var read = DefectCsv.Read(Csv);

        Assert.True(read.Ok, string.Join(" ", read.Errors));
        var (x, y) = (read.Rows[0].Form, read.Rows[1].Form);
        Assert.Equal((ModelComponent.Infrastructure, ReporterKind.ReUser, DefectManifestation.Basic, DefectStage.DataPipeline, DefectImpact.LowerAccuracy, DefectType.NonFunctional, RootCause.GpuUsage),
            (x.Component, x.Reporter, x.Manifestation, x.Stage, x.Impact, x.Type, x.RootCause));
        Assert.Equal((DefectImpact.Other, "rare", DefectStatus.Open), (y.Impact, y.OtherText, read.Rows[1].Status));
    }

    [Fact]
    public void A_file_without_the_studys_columns_is_refused_naming_them()
    {
        var read = DefectCsv.Read("Title,Component,Reporter\nx,Head,Re-user\n");

        Assert.Empty(read.Rows);
        Assert.Equal("The file lacks the column(s) “Manifestation”, “Part of Implementation”, “Impacts”, “Defect types”, “Root Causes”.", Assert.Single(read.Errors));
    }

    [Fact]
    public void Every_bad_row_is_reported_with_its_line_and_no_row_is_returned()
    {
        const string Csv = "Title,Component,Reporter,Manifestation,Part of Implementation,Impacts,Defect types,Root Causes,Status\n"
                           + "ok,Head,Re-user,Basic defects,Training,Crash,Logic,Loss,Open\n"
                           + "\"multi\nline\",Wheel,Re-user,Basic defects,Training,Crash,Logic,Loss,Open\n"
                           + "other,Head,Re-user,Basic defects,Training,Crash,Logic,Other,Closed\n";

        var read = DefectCsv.Read(Csv);

        Assert.Empty(read.Rows);
        Assert.Equal(2, read.Errors.Count);
        Assert.StartsWith("Line 3: “Wheel” is not a component", read.Errors[0]);
        Assert.Equal("Line 5: “Closed” is not a status.", read.Errors[1]);
    }

    [Fact]
    public void An_unclosed_quote_or_an_empty_file_is_refused()
    {
        Assert.Equal("Line 2: a quoted field is not closed.", Assert.Single(DefectCsv.Read("Title\n\"open").Errors));
        Assert.Equal("The file is empty: it needs a header row.", Assert.Single(DefectCsv.Read("").Errors));
    }
}
