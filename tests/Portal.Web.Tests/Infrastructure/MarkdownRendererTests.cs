using Portal.Web.Infrastructure;

namespace Portal.Web.Tests.Infrastructure;

public sealed class MarkdownRendererTests
{
    private readonly MarkdownRenderer _renderer = new();

    [Fact]
    public void Script_tags_do_not_survive()
    {
        var html = _renderer.ToSafeHtml("Hello <script>alert('x')</script> world");
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Hello", html);
    }

    [Fact]
    public void Javascript_links_lose_their_target()
    {
        var html = _renderer.ToSafeHtml("[click](javascript:alert(1)) and <a href=\"JaVaScRiPt:alert(2)\">raw</a>");
        Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Event_handler_attributes_are_removed()
    {
        var html = _renderer.ToSafeHtml("<img src=\"https://example.org/a.png\" onerror=\"alert(1)\">");
        Assert.DoesNotContain("onerror", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Tables_task_lists_and_code_blocks_render()
    {
        var html = _renderer.ToSafeHtml("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] open\n\n```python\nx = 1\n```\n");
        Assert.Contains("<table", html);
        Assert.Contains("☑", html);
        Assert.Contains("☐", html);
        Assert.DoesNotContain("<input", html);
        Assert.Contains("<code", html);
        Assert.Contains("https://example.org", _renderer.ToSafeHtml("[ok](https://example.org)"));
    }
}
