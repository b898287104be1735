using System.IO.Compression;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Testing;
using Portal.Web.Features.Account;
using Portal.Web.Features.Design;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Browser.Tests.Releases;

public sealed class ReleaseJourneyTests : IClassFixture<PortalAppFactory>, IClassFixture<BrowserFixture>
{
    private readonly PortalAppFactory _app;
    private readonly BrowserFixture _browser;

    public ReleaseJourneyTests(PortalAppFactory app, BrowserFixture browser) => (_app, _browser) = (app, browser);

    [Fact]
    public async Task Two_leads_sign_off_a_release_once_its_evidence_is_complete_and_download_its_bundle()
    {
        var server = _app.ServerAddress;
        var (projectId, releaseId) = await CreateProjectAndReleaseAsync();

        // A lead opens the release and sees which gates fail, and why.
        var lead = await _browser.SignInAsync(server, "lead.modeling");
        await lead.GotoAsync($"releases/{releaseId}");
        await BrowserFixture.WaitForCircuitAsync(lead);
        await Expect(lead, "gate-Reproducibility", "Fail");
        Assert.Equal("2 of 2 claims not reproduced within ±0.5.", await lead.InnerTextAsync("[data-testid=gate-Reproducibility] [data-testid=gate-summary]"));
        Assert.Contains("AP on COCO test-dev (paper 40.0): no chosen succeeded run on test-dev.", await lead.InnerTextAsync("[data-testid=gate-Reproducibility]"));
        Assert.Equal("0 qualifying runs with different seeds; 3 required.", await lead.InnerTextAsync("[data-testid=gate-Seeds] [data-testid=gate-summary]"));
        Assert.Contains("Intended use", await lead.InnerTextAsync("[data-testid=gate-ModelCard] [data-testid=gate-summary]"));
        Assert.Equal("Fail", await lead.GetAttributeAsync("[data-testid=gate-Design]", "data-state"));

        // Approving is not offered while gates fail, and the page says which ones.
        Assert.True(await lead.IsDisabledAsync("[data-testid=approve]"));
        var blocked = await lead.InnerTextAsync("[data-testid=approve-blocked]");
        Assert.Contains("Reproducibility", blocked);
        Assert.Contains("Design", blocked);
        Assert.Equal(0, await _app.WithDbAsync(db => db.ReleaseApprovals.CountAsync()));

        // The team completes the evidence; the open page follows without a reload.
        await CompleteEvidenceAsync(projectId, releaseId);
        foreach (var gate in new[] { "Stages", "Design", "Reproducibility", "Seeds", "IndependentRerun", "ModelCard", "ReferenceMatch" })
            await Expect(lead, $"gate-{gate}", "Pass");
        await Expect(lead, "gate-SignOff", "Fail");
        await lead.Locator("[data-testid=approve-blocked]").WaitForAsync(new() { State = WaitForSelectorState.Detached });

        await lead.ClickAsync("[data-testid=approve]");
        await lead.WaitForSelectorAsync("[data-testid=gate-SignOff] >> text=1 of 2 lead approvals.");
        Assert.True(await lead.IsDisabledAsync("[data-testid=publish]"));

        // A second lead approves; the release can now be published and its bundle downloaded.
        var second = await _browser.SignInAsync(server, "lead.loss");
        await second.GotoAsync($"releases/{releaseId}");
        await BrowserFixture.WaitForCircuitAsync(second);
        await second.WaitForSelectorAsync("[data-testid=decision] >> text=/Maya Ortiz.*approved/");
        await second.ClickAsync("[data-testid=approve]");
        await Expect(second, "gate-SignOff", "Pass");
        await second.ClickAsync("[data-testid=publish]");
        await second.WaitForSelectorAsync("[data-testid=release-status] >> text=Published");

        var download = await second.RunAndWaitForDownloadAsync(() => second.ClickAsync("[data-testid=download-bundle]"));
        var zipPath = Path.Combine(_app.DataDirectory, "downloaded.zip");
        await download.SaveAsAsync(zipPath);
        Assert.Equal("Journey-Net-1.0.zip", download.SuggestedFilename);
        using var zip = ZipFile.OpenRead(zipPath);
        Assert.Equal(["MODEL_CARD.md", "approvals.json", "checkpoint/weights.ckpt", "config/config.json", "metrics.json"],
            zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal).ToArray());
        using var approvals = new StreamReader(zip.GetEntry("approvals.json")!.Open());
        var approvalsJson = await approvals.ReadToEndAsync();
        Assert.Contains("Maya Ortiz (Modeling lead)", approvalsJson);
        Assert.Contains("Lars Berg (Loss lead)", approvalsJson);

        // The first lead's page shows the frozen release: no more approve button.
        await lead.WaitForSelectorAsync("[data-testid=release-status] >> text=Published");
        Assert.Equal(0, await lead.Locator("[data-testid=approve]").CountAsync());
    }

    private static Task Expect(IPage page, string testId, string state) =>
        page.WaitForSelectorAsync($"[data-testid={testId}][data-state={state}]");

    private async Task<(long ProjectId, long ReleaseId)> CreateProjectAndReleaseAsync()
    {
        var projectId = await _app.WithDbAsync(async db =>
        {
            var project = new Project
            {
                Name = "Journey-Net", Summary = "A detector for the release journey.", PaperTitle = "Journey-Net", PaperAuthors = "J. Author",
                PaperYear = 2025, PaperUrl = "https://example.org/journey", Tolerance = 0.5, Stage = ReproductionStage.Evaluation, CreatedAt = DateTimeOffset.UtcNow,
                Claims =
                [
                    new PaperClaim { Metric = "AP", Dataset = "COCO", Split = "test-dev", Value = 40.0 },
                    new PaperClaim { Metric = "AP50", Dataset = "COCO", Split = "test-dev", Value = 60.0 },
                ],
            };
            db.Projects.Add(project);
            await db.SaveChangesAsync();
            db.Tasks.Add(new ProjectTask { ProjectId = project.Id, Title = "Backbone blocks", Stage = ReproductionStage.Implementation, Component = ModelComponent.Backbone, Status = ProjectTaskStatus.Claimed, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
            return project.Id;
        });
        using var scope = _app.Services.CreateScope();
        var releaseId = await scope.ServiceProvider.GetRequiredService<ReleaseService>().CreateAsync(await ActorAsync("techlead"), projectId,
            new ReleaseInput("Journey-Net", "1.0", "416 GPU", "feedbeef", ReleaseDefaults.RequiredStages));
        return (projectId, releaseId);
    }

    private async Task CompleteEvidenceAsync(long projectId, long releaseId)
    {
        var techlead = await ActorAsync("techlead");
        var member1 = await UserIdAsync("member1");
        var member2 = await UserIdAsync("member2");
        var runIds = await _app.WithDbAsync(async db =>
        {
            await db.Tasks.Where(t => t.ProjectId == projectId).ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, ProjectTaskStatus.Done));
            var doc = new DesignDocument
            {
                ProjectId = projectId, Component = ModelComponent.Backbone, Title = "Backbone contract", AuthorId = member1, CreatedAt = DateTimeOffset.UtcNow,
                Versions = [new DesignDocumentVersion { Number = 1, Markdown = "Input 416x416x3; outputs P3-P5.", AuthorId = member1, CreatedAt = DateTimeOffset.UtcNow }],
                ReviewRequests = [new ReviewRequest { ReviewerId = techlead.UserId, RequestedAt = DateTimeOffset.UtcNow }],
            };
            db.DesignDocuments.Add(doc);
            await db.SaveChangesAsync();
            db.ReviewVerdicts.Add(new ReviewVerdict { DocumentId = doc.Id, VersionNumber = 1, ReviewerId = techlead.UserId, Verdict = Verdict.Approve, At = DateTimeOffset.UtcNow });

            var ids = new List<long>();
            foreach (var (seed, starter, ap, ap50) in new[] { (1, member1, 39.8, 59.9), (2, member1, 40.1, 60.2), (3, member2, 40.2, 60.1) })
            {
                var run = new Run
                {
                    ProjectId = projectId, Recipe = "detector", Seed = seed, Commit = "feedbeef", Dataset = "COCO", Split = "test-dev", Status = RunStatus.Succeeded,
                    StartedById = starter, QueuedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow.AddSeconds(seed), EndedAt = DateTimeOffset.UtcNow.AddHours(1),
                    FinalMetrics = [new RunFinalMetric { Name = "AP", Value = ap }, new RunFinalMetric { Name = "AP50", Value = ap50 }],
                };
                db.Runs.Add(run);
                await db.SaveChangesAsync();
                var folder = Path.Combine(_app.DataDirectory, "artifacts", run.Id.ToString());
                Directory.CreateDirectory(folder);
                await File.WriteAllBytesAsync(Path.Combine(folder, "weights.ckpt"), [7, 7, 7]);
                await File.WriteAllTextAsync(Path.Combine(folder, "config.json"), $$"""{"seed": {{seed}}}""");
                db.RunArtifacts.AddRange(
                    new RunArtifact { RunId = run.Id, Kind = "checkpoint", FileName = "weights.ckpt", StoragePath = Path.Combine("artifacts", run.Id.ToString(), "weights.ckpt"), SizeBytes = 3, CreatedAt = DateTimeOffset.UtcNow },
                    new RunArtifact { RunId = run.Id, Kind = "config", FileName = "config.json", StoragePath = Path.Combine("artifacts", run.Id.ToString(), "config.json"), CreatedAt = DateTimeOffset.UtcNow });
                ids.Add(run.Id);
            }
            // The implementation was compared with the reference at the release's commit, every tensor within tolerance.
            db.Runs.Add(new Run
            {
                ProjectId = projectId, Recipe = "differential", Commit = "feedbeef", Dataset = "reference inputs", Split = "fixed", Status = RunStatus.Succeeded,
                StartedById = member2, QueuedAt = DateTimeOffset.UtcNow, EndedAt = DateTimeOffset.UtcNow.AddMinutes(2),
                FinalMetrics = [new RunFinalMetric { Name = "passed", Value = 1 }, new RunFinalMetric { Name = "tensors", Value = 178 }, new RunFinalMetric { Name = "outOfTolerance", Value = 0 }],
            });
            await db.SaveChangesAsync();
            return ids;
        });

        using var scope = _app.Services.CreateScope();
        var releases = scope.ServiceProvider.GetRequiredService<ReleaseService>();
        await releases.ChooseRunsAsync(techlead, releaseId, runIds);
        var card = await releases.GetAsync(releaseId);
        var filled = string.Join("\n", ModelCardTemplate.Sections.Select(s => $"## {s}\n\n{s} of Journey-Net.\n"));
        await releases.SaveModelCardAsync(techlead, releaseId, $"# {card.Release.Name}\n\n{filled}");
    }

    private Task<string> UserIdAsync(string userName) =>
        _app.WithDbAsync(db => db.Users.Where(u => u.UserName == userName).Select(u => u.Id).SingleAsync());

    private async Task<Actor> ActorAsync(string userName) =>
        new(await UserIdAsync(userName), userName, new HashSet<string> { Roles.Lead });
}
