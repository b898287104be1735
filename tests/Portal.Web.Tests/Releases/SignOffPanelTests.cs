using Bunit;
using Portal.Web.Features.Releases;
using Portal.Web.Tests.Testing;

namespace Portal.Web.Tests.Releases;

/// <summary>The sign-off panel on the real services: Approve and Publish are offered only when the gates allow them, and say why not.</summary>
public sealed class SignOffPanelTests : PortalComponentTest<ReleaseTestBed>
{
    protected override async Task<ReleaseTestBed> StartHostAsync()
    {
        var bed = new ReleaseTestBed();
        await bed.InitializeAsync();
        return bed;
    }

    [Fact]
    public async Task Approve_is_disabled_while_evidence_gates_fail_and_the_failing_gates_are_named_beside_it()
    {
        var id = await Db.CreateReleaseAsync();
        var view = await Db.Releases.GetAsync(id);

        var cut = Render<SignOffPanel>(p => p.Add(x => x.View, view).Add(x => x.Actor, Db.Lead1));

        Assert.True(cut.Find("[data-testid=approve]").HasAttribute("disabled"));
        var reason = cut.Find("[data-testid=approve-blocked]").TextContent;
        Assert.StartsWith("Approval needs every gate to pass; these fail: ", reason);
        Assert.Contains("Reproducibility", reason);
        Assert.DoesNotContain("Sign-off", reason);
        Assert.True(cut.Find("[data-testid=publish]").HasAttribute("disabled"));
    }

    [Fact]
    public async Task With_complete_evidence_a_lead_can_approve_and_then_only_the_missing_approval_holds_publishing()
    {
        var id = await Db.CreateReleaseAsync();
        await Db.CompleteEvidenceAsync(id);
        var view = await Db.Releases.GetAsync(id);
        var changed = 0;

        var cut = Render<SignOffPanel>(p => p.Add(x => x.View, view).Add(x => x.Actor, ActAs(Db.Lead1)).Add(x => x.OnChanged, () => changed++));

        Assert.False(cut.Find("[data-testid=approve]").HasAttribute("disabled"));
        Assert.Empty(cut.FindAll("[data-testid=approve-blocked]"));
        Assert.Equal("Publishing needs every gate to pass; this one fails: Sign-off.", cut.Find("[data-testid=publish-blocked]").TextContent);

        await cut.Find("[data-testid=approve]").ClickAsync(new());

        Assert.Equal(1, changed);
        var after = await Db.Releases.GetAsync(id);
        Assert.Equal("1 of 2 lead approvals.", after.Gates.Single(g => g.Kind == GateKind.SignOff).Summary);
    }
}
