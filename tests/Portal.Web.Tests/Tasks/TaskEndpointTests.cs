using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Testing;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Tests.Tasks;

/// <summary>The claim controls as form posts through the real server: antiforgery, authorization and clear errors.</summary>
public sealed class TaskEndpointTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory _app;
    public TaskEndpointTests(PortalAppFactory app) => _app = app;

    private async Task<long> OpenTaskAsync(string project = "YOLOv3", ProjectTaskStatus status = ProjectTaskStatus.Open)
    {
        await using var db = await _app.DbFactory.CreateDbContextAsync();
        var projectId = await db.Projects.Where(p => p.Name == project).Select(p => p.Id).SingleAsync();
        var task = new ProjectTask { ProjectId = projectId, Title = $"Endpoint test {Guid.NewGuid():N}", Status = status };
        db.Tasks.Add(task);
        await db.SaveChangesAsync();
        return task.Id;
    }

    private Task<ProjectTask> LoadAsync(long id) => _app.WithDbAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == id));

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, bool withToken = true, Dictionary<string, string>? fields = null)
    {
        fields ??= [];
        if (withToken) fields["__RequestVerificationToken"] = await SignedInClient.GetAntiforgeryTokenAsync(client, "/");
        return await client.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task A_member_claims_a_task_with_a_form_post()
    {
        _ = _app.ServerAddress;
        var id = await OpenTaskAsync();
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member4");

        var response = await PostAsync(client, $"api/tasks/{id}/claim");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(ProjectTaskStatus.Claimed, (await LoadAsync(id)).Status);
    }

    [Fact]
    public async Task A_claim_posted_without_its_antiforgery_token_is_refused_and_the_task_stays_open()
    {
        _ = _app.ServerAddress;
        var id = await OpenTaskAsync();
        using var client = await SignedInClient.CreateAsync(_app.ServerAddress, "member5");

        var response = await PostAsync(client, $"api/tasks/{id}/claim", withToken: false, fields: new() { ["from"] = "board" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Contains("antiforgery token"), body);
        var task = await LoadAsync(id);
        Assert.Equal((ProjectTaskStatus.Open, (string?)null), (task.Status, task.AssigneeId));
    }

    [Fact]
    public async Task Refusals_come_back_as_problem_details_with_the_reason()
    {
        _ = _app.ServerAddress;
        var done = await OpenTaskAsync(status: ProjectTaskStatus.Done);
        var open = await OpenTaskAsync();
        using var member = await SignedInClient.CreateAsync(_app.ServerAddress, "member6");
        using var mentor = await SignedInClient.CreateAsync(_app.ServerAddress, "mentor2");

        var claimDone = await PostAsync(member, $"api/tasks/{done}/claim");
        Assert.Equal(HttpStatusCode.Conflict, claimDone.StatusCode);
        Assert.Contains("is done", await claimDone.Content.ReadAsStringAsync());

        var unknown = await PostAsync(member, "api/tasks/987654/claim");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var byMentor = await PostAsync(mentor, $"api/tasks/{open}/claim");
        Assert.Equal(HttpStatusCode.Forbidden, byMentor.StatusCode);
        Assert.Contains("Only members and leads", await byMentor.Content.ReadAsStringAsync());

        var assignByMember = await PostAsync(member, $"api/tasks/{open}/assign", fields: new() { ["assigneeId"] = "x" });
        Assert.Equal(HttpStatusCode.Forbidden, assignByMember.StatusCode);
        Assert.Equal(ProjectTaskStatus.Open, (await LoadAsync(open)).Status);
    }
}
