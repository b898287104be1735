using System.IO.Compression;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Features.Releases;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Releases;

public sealed class PublishingTests : IAsyncLifetime
{
    private readonly ReleaseTestBed _bed = new();
    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync().AsTask();

    [Fact]
    public async Task Publishing_without_the_sign_offs_is_refused_and_writes_no_bundle()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);

        var error = await Assert.ThrowsAsync<PortalError>(() => _bed.Publisher.PublishAsync(_bed.Lead1, id));

        Assert.Equal("The release cannot be published while gates fail: Sign-off: 1 of 2 lead approvals.", error.Message);
        Assert.Equal(ReleaseStatus.Draft, (await _bed.Releases.GetAsync(id)).Release.Status);
        Assert.False(Directory.Exists(Path.Combine(_bed.DataDirectory, "releases")));
    }

    [Fact]
    public async Task A_signed_off_release_publishes_a_bundle_with_card_config_metrics_checkpoint_and_approvals()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);

        await _bed.Publisher.PublishAsync(_bed.Lead2, id);

        var view = await _bed.Releases.GetAsync(id);
        Assert.True(view.IsPublished);
        Assert.Equal(view.Fingerprint, view.Release.PublishedFingerprint);
        var (path, name) = await _bed.Publisher.GetBundleAsync(id);
        Assert.Equal("TinyDet-1.0.zip", name);
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(["MODEL_CARD.md", "approvals.json", "checkpoint/model.ckpt", "config/config.json", "metrics.json"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal).ToArray());
        using (var card = new StreamReader(zip.GetEntry("MODEL_CARD.md")!.Open()))
            Assert.Equal(ReleaseTestBed.FilledCard, await card.ReadToEndAsync());
        using var metrics = JsonDocument.Parse(zip.GetEntry("metrics.json")!.Open());
        var ap = metrics.RootElement.GetProperty("claims")[0];
        Assert.Equal("AP", ap.GetProperty("metric").GetString());
        Assert.Equal(40.067, ap.GetProperty("mean").GetDouble(), 3);
        // The checkpoint of the best run by AP (seed 3, 40.3).
        var best = metrics.RootElement.GetProperty("checkpointRun").GetInt64();
        using (var config = new StreamReader(zip.GetEntry("config/config.json")!.Open()))
            Assert.Contains("\"seed\": 3", await config.ReadToEndAsync());
        using var approvals = JsonDocument.Parse(zip.GetEntry("approvals.json")!.Open());
        Assert.Equal(["Lea One", "Leo Two"], approvals.RootElement.EnumerateArray().Select(a => a.GetProperty("lead").GetString()!).ToArray());
        await using var ckpt = zip.GetEntry("checkpoint/model.ckpt")!.Open();
        var bytes = new byte[4];
        await ckpt.ReadExactlyAsync(bytes);
        Assert.Equal((byte)best, bytes[3]);
    }

    [Fact]
    public async Task The_bundle_holds_each_runs_environment_and_the_release_shows_which_fields_differ()
    {
        var id = await _bed.CreateReleaseAsync();
        var first = await _bed.CompleteEvidenceAsync(id);
        var environment = Portal.Web.Tests.Agents.NumericCheckAndEnvironmentTests.Environment();
        await using (var db = await _bed.Db.CreateDbContextAsync())
        {
            var runs = db.Runs.Where(r => r.Id >= first).OrderBy(r => r.Id).ToList();
            runs[0].EnvironmentJson = Portal.Web.Features.Runs.RunEnvironments.Serialize(environment);
            runs[1].EnvironmentJson = Portal.Web.Features.Runs.RunEnvironments.Serialize(environment with { IntraOpThreads = 1 });
            await db.SaveChangesAsync();
        }
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);

        await _bed.Publisher.PublishAsync(_bed.Lead2, id);

        var view = await _bed.Releases.GetAsync(id);
        Assert.Equal(["Intra-op threads"], view.Environments!.Differences.Select(d => d.Field));
        Assert.Equal([first + 2], view.Environments.WithoutRecord);
        using var zip = ZipFile.OpenRead((await _bed.Publisher.GetBundleAsync(id)).Path);
        Assert.Equal([$"runs/{first}/environment.json", $"runs/{first + 1}/environment.json"],
            zip.Entries.Select(e => e.FullName).Where(n => n.StartsWith("runs/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        using var stored = JsonDocument.Parse(zip.GetEntry($"runs/{first + 1}/environment.json")!.Open());
        Assert.Equal(1, stored.RootElement.GetProperty("IntraOpThreads").GetInt32());
        Assert.Equal("AMD EPYC 9654 96-Core Processor", stored.RootElement.GetProperty("CpuModel").GetString());
    }

    [Fact]
    public async Task A_published_release_is_frozen()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);
        await _bed.Publisher.PublishAsync(_bed.Lead1, id);
        var before = await _bed.Releases.GetAsync(id);

        var errors = new[]
        {
            await Assert.ThrowsAsync<PortalError>(() => _bed.Releases.UpdateAsync(_bed.Lead1, id, ReleaseTestBed.Input("1.1"))),
            await Assert.ThrowsAsync<PortalError>(() => _bed.Releases.SaveModelCardAsync(_bed.Lead1, id, "## Description")),
            await Assert.ThrowsAsync<PortalError>(() => _bed.Releases.ChooseRunsAsync(_bed.Lead1, id, [])),
            await Assert.ThrowsAsync<PortalError>(() => _bed.SignOff.RejectAsync(_bed.Lead1, id, "late")),
            await Assert.ThrowsAsync<PortalError>(() => _bed.Publisher.PublishAsync(_bed.Lead1, id)),
        };

        Assert.All(errors, e => Assert.Equal("TinyDet 1.0 is published and frozen; make a new version to change it.", e.Message));
        var after = await _bed.Releases.GetAsync(id);
        Assert.Equal((before.Release.Version, before.Release.ModelCardMarkdown, before.Release.RowVersion, before.Audit.Count),
            (after.Release.Version, after.Release.ModelCardMarkdown, after.Release.RowVersion, after.Audit.Count));
    }

    [Fact]
    public async Task Publishing_needs_a_checkpoint_among_the_qualifying_runs()
    {
        var id = await _bed.CreateReleaseAsync();
        await _bed.CompleteEvidenceAsync(id, checkpoint: false);
        await _bed.SignOff.ApproveAsync(_bed.Lead1, id);
        await _bed.SignOff.ApproveAsync(_bed.Lead2, id);

        var error = await Assert.ThrowsAsync<PortalError>(() => _bed.Publisher.PublishAsync(_bed.Lead1, id));

        Assert.Equal("None of the qualifying runs stored a checkpoint; the bundle needs one.", error.Message);
        await using var db = await _bed.Db.CreateDbContextAsync();
        Assert.Equal(ReleaseStatus.Draft, await db.Releases.Select(r => r.Status).SingleAsync());
    }
}
