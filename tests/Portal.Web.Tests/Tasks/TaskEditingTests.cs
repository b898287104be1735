using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Tasks;

public sealed class TaskEditingTests : IAsyncLifetime
{
    private BoardDatabase _db = default!;

    public async Task InitializeAsync() => _db = await BoardDatabase.CreateAsync();
    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static TaskForm Form(string title = "Implement SPP block", string description = "Max-pool **5, 9, 13**.") => new()
    {
        Title = title, Description = description, Stage = ReproductionStage.Implementation, Component = ModelComponent.Neck, EstimateHours = 8,
    };

    [Fact]
    public async Task A_lead_creates_a_task_that_shows_on_the_board()
    {
        var id = await _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form());

        var board = await _db.Board.GetAsync(_db.Lead, _db.ProjectId, new BoardFilter());
        var row = Assert.Single(board.Rows);
        Assert.Equal((id, "Implement SPP block", ProjectTaskStatus.Open), (row.Id, row.Title, row.Status));
        var detail = await _db.Board.GetTaskAsync(id);
        Assert.Contains("<strong>5, 9, 13</strong>", detail.DescriptionHtml);
    }

    [Theory]
    [InlineData("", "A task needs a title.")]
    [InlineData("   ", "A task needs a title.")]
    public async Task An_empty_title_is_refused(string title, string message)
    {
        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form(title)));
        Assert.Equal(message, error.Message);
        Assert.Equal(0, await _db.QueryAsync(db => Task.FromResult(db.Tasks.Count())));
    }

    [Fact]
    public async Task An_oversized_title_or_description_is_refused_with_the_limit()
    {
        var longTitle = await Assert.ThrowsAsync<PortalError>(() => _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form(new string('x', 201))));
        Assert.Contains("200", longTitle.Message);
        var longDescription = await Assert.ThrowsAsync<PortalError>(() => _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form(description: new string('x', 20_001))));
        Assert.Contains("20,000", longDescription.Message);
    }

    [Theory]
    [InlineData("Look <script>alert('x')</script>", "<script>")]
    [InlineData("[the paper](javascript:alert(1))", "javascript:")]
    [InlineData("<img src=x onerror=alert(1)>", "onerror")]
    public async Task Markdown_with_scripts_or_javascript_links_is_refused_and_the_stored_task_stays(string description, string named)
    {
        var id = await _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form());

        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Editing.UpdateAsync(_db.Lead, id, 0, Form(description: description)));

        Assert.Equal(PortalErrorKind.Validation, error.Kind);
        Assert.Contains(named, error.Message);
        var stored = await _db.TaskAsync(id);
        Assert.Equal(("Max-pool **5, 9, 13**.", 0), (stored.DescriptionMarkdown, stored.Version));
    }

    [Fact]
    public async Task Even_markdown_stored_before_the_check_renders_without_scripts_or_javascript_links()
    {
        var id = await _db.AddTaskAsync(description: "<script>alert(1)</script> [x](javascript:alert(2)) <a href=\"JaVaScRiPt:alert(3)\">y</a>");

        var html = (await _db.Board.GetTaskAsync(id)).DescriptionHtml;

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex("(href|src)\\s*=\\s*[\"']?\\s*javascript:", System.Text.RegularExpressions.RegexOptions.IgnoreCase), html);
        Assert.Contains(">y</a>", html);
    }

    [Fact]
    public async Task An_edit_made_against_an_older_version_is_refused_and_the_newer_edit_stays()
    {
        var id = await _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form());
        await _db.Editing.UpdateAsync(_db.Lead, id, 0, Form("Implement SPP block (5, 9, 13)"));

        var error = await Assert.ThrowsAsync<PortalError>(() => _db.Editing.UpdateAsync(_db.Lead, id, 0, Form("Stale title")));

        Assert.Equal(PortalErrorKind.Conflict, error.Kind);
        var stored = await _db.TaskAsync(id);
        Assert.Equal(("Implement SPP block (5, 9, 13)", 1), (stored.Title, stored.Version));
    }

    [Fact]
    public async Task A_claim_between_opening_and_saving_an_edit_makes_the_edit_stale()
    {
        var id = await _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form());
        await _db.Claims.ClaimAsync(_db.Members[0], id);

        await Assert.ThrowsAsync<PortalError>(() => _db.Editing.UpdateAsync(_db.Lead, id, 0, Form("Renamed")));
        Assert.Equal("Implement SPP block", (await _db.TaskAsync(id)).Title);
    }

    [Fact]
    public async Task Members_and_mentors_cannot_create_or_edit_tasks()
    {
        var id = await _db.Editing.CreateAsync(_db.Lead, _db.ProjectId, Form());
        foreach (var actor in new[] { _db.Members[0], _db.Mentor, _db.Admin })
        {
            Assert.Equal(PortalErrorKind.Forbidden, (await Assert.ThrowsAsync<PortalError>(() => _db.Editing.CreateAsync(actor, _db.ProjectId, Form()))).Kind);
            Assert.Equal(PortalErrorKind.Forbidden, (await Assert.ThrowsAsync<PortalError>(() => _db.Editing.UpdateAsync(actor, id, 0, Form("x")))).Kind);
        }
        Assert.Equal("Implement SPP block", (await _db.TaskAsync(id)).Title);
    }

    [Fact]
    public async Task Editing_an_unknown_task_or_creating_in_an_unknown_project_says_not_found()
    {
        Assert.Equal(PortalErrorKind.NotFound, (await Assert.ThrowsAsync<PortalError>(() => _db.Editing.UpdateAsync(_db.Lead, 424242, 0, Form()))).Kind);
        Assert.Equal(PortalErrorKind.NotFound, (await Assert.ThrowsAsync<PortalError>(() => _db.Editing.CreateAsync(_db.Lead, 424242, Form()))).Kind);
    }
}
