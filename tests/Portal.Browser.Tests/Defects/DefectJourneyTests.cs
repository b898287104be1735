using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Infrastructure;

namespace Portal.Browser.Tests.Defects;

/// <summary>
/// In Chromium: a member reports a defect from a run whose loss went NaN, a lead marks it blocking and the release's
/// Defects gate fails, the fix is verified by a run and the gate passes, on the open release page.
/// </summary>
public sealed class DefectJourneyTests(PortalAppFactory app, BrowserFixture browser) : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_defect_reported_from_a_nan_run_blocks_the_release_until_its_fix_is_verified_by_a_run()
    {
        var server = app.ServerAddress;
        var (projectId, nanRun, fixedRun, releaseId) = await ArrangeAsync();

        // The member reports from the run: impact and stage are suggested, shown, and confirmed as they are.
        var member = await browser.SignInAsync(server, "member1");
        await member.GotoAsync($"runs/{nanRun}");
        await BrowserFixture.WaitForCircuitAsync(member);
        await member.ClickAsync("[data-testid=run-report-defect]");
        await member.WaitForSelectorAsync("[data-testid=defect-suggestion] >> text=/loss became NaN/");
        Assert.Equal(DefectTaxonomy.Name(DefectImpact.NumericalInstability), await member.Locator(Field("defect-impact")).First.InputValueAsync());
        Assert.Equal(DefectTaxonomy.Name(DefectStage.Training), await member.Locator(Field("defect-stage")).First.InputValueAsync());
        Assert.Contains($"Run #{nanRun}", await member.InnerTextAsync("[data-testid=defect-evidence]"));
        await member.ClickAsync("[data-testid=defect-save]");
        await BrowserFixture.WaitForSnackbarAsync(member, "Defect reported.", clicked: "[data-testid=defect-save]");
        var defect = await app.WithDbAsync(db => db.Defects.SingleAsync(d => d.ProjectId == projectId));
        Assert.Equal((DefectImpact.NumericalInstability, DefectStage.Training, (long?)nanRun, DefectStatus.Open), (defect.Impact, defect.Stage, defect.RunId, defect.Status));

        // The release's gate passes while nothing blocks it.
        var lead = await browser.SignInAsync(server, "lead.modeling");
        var release = await lead.Context.NewPageAsync();
        await release.GotoAsync($"releases/{releaseId}");
        await BrowserFixture.WaitForCircuitAsync(release);
        await Expect(release, "Pass");

        // The lead marks it blocking: the open release page fails its Defects gate.
        await lead.GotoAsync($"projects/{projectId}/defects");
        await BrowserFixture.WaitForCircuitAsync(lead);
        await lead.ClickAsync("[data-testid=defect-act]");
        await lead.ClickAsync("[data-testid=defect-toggle-blocking]");
        await lead.WaitForSelectorAsync("[data-testid=defect-blocking]");
        await Expect(release, "Fail");
        Assert.Contains("1 open blocking defect.", await release.InnerTextAsync("[data-testid=gate-Defects] [data-testid=gate-summary]"));

        // Owned, diagnosed, fixed in a commit, and verified by a run that succeeded: the gate passes again.
        await Act(lead, "defect-take", null, "You own it.");
        await Act(lead, "defect-diagnose", "Loss scale applied twice under mixed precision.", "Diagnosed.");
        await Act(lead, "defect-fixed", "c0ffee42", "Fixed.");
        await Act(lead, "defect-verify", fixedRun.ToString(), "Verified.");
        await lead.WaitForSelectorAsync("[data-testid=defect-status] >> text=Verified");
        await Expect(release, "Pass");
        defect = await app.WithDbAsync(db => db.Defects.SingleAsync(d => d.ProjectId == projectId));
        Assert.Equal((DefectStatus.Verified, "c0ffee42", (long?)fixedRun), (defect.Status, defect.FixCommit, defect.VerifyingRunId));
    }

    private static string Field(string testId) => $"input[data-testid={testId}], [data-testid={testId}] input";

    private static Task Expect(IPage page, string state) =>
        page.WaitForSelectorAsync($"[data-testid=gate-Defects][data-state={state}]");

    private static async Task Act(IPage page, string button, string? input, string done)
    {
        if (input is not null) await page.FillAsync(Field("defect-input"), input);
        await page.ClickAsync($"[data-testid={button}]");
        await BrowserFixture.WaitForSnackbarAsync(page, done, clicked: $"[data-testid={button}]");
        foreach (var close in await page.Locator(".mud-snackbar button").AllAsync()) await close.ClickAsync();
        await page.Locator(".mud-snackbar").First.WaitForAsync(new() { State = WaitForSelectorState.Detached });
    }

    private async Task<(long ProjectId, long NanRun, long FixedRun, long ReleaseId)> ArrangeAsync()
    {
        var member1 = await app.WithDbAsync(db => db.Users.Where(u => u.UserName == "member1").Select(u => u.Id).SingleAsync());
        var techlead = await app.WithDbAsync(db => db.Users.Where(u => u.UserName == "techlead").Select(u => u.Id).SingleAsync());
        var (projectId, nanRun, fixedRun) = await app.WithDbAsync(async db =>
        {
            var project = new Project { Name = "Defect-Net", Summary = "A detector for the defect journey.", Stage = ReproductionStage.Training, CreatedAt = DateTimeOffset.UtcNow };
            db.Projects.Add(project);
            await db.SaveChangesAsync();
            var nan = new Run
            {
                ProjectId = project.Id, Recipe = "detector", Seed = 1, Commit = "badc0de1", Status = RunStatus.Failed, StartedById = member1,
                QueuedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow, EndedAt = DateTimeOffset.UtcNow, LastStep = 300,
            };
            var good = new Run
            {
                ProjectId = project.Id, Recipe = "detector", Seed = 2, Commit = "c0ffee42", Status = RunStatus.Succeeded, StartedById = member1,
                QueuedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow, EndedAt = DateTimeOffset.UtcNow, LastStep = 300,
            };
            db.Runs.AddRange(nan, good);
            await db.SaveChangesAsync();
            for (var step = 100; step <= 300; step += 100)
                db.MetricPoints.Add(new MetricPoint { RunId = nan.Id, Name = "train/loss", Step = step, Value = step < 300 ? 4.0 / step : double.NaN, WallTime = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
            return (project.Id, nan.Id, good.Id);
        });
        using var scope = app.Services.CreateScope();
        var releaseId = await scope.ServiceProvider.GetRequiredService<ReleaseService>().CreateAsync(new Actor(techlead, "techlead", new HashSet<string> { Roles.Lead }),
            projectId, new ReleaseInput("Defect-Net", "1.0", "416", "c0ffee42", ReleaseDefaults.RequiredStages));
        return (projectId, nanRun, fixedRun, releaseId);
    }
}
