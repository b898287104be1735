using Ganss.Xss;
using Markdig;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Markdown to HTML that is safe to show: Markdig with tables, task lists and code blocks, then an HTML
/// sanitizer, so that no script, event handler or javascript: link survives, whatever the author wrote.
/// </summary>
public sealed class MarkdownRenderer
{
    private readonly MarkdownPipeline _pipeline = new MarkdownPipelineBuilder()
        .UseAdvancedExtensions()
        .Build();

    private readonly HtmlSanitizer _sanitizer = CreateSanitizer();

    public string ToSafeHtml(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown)) return "";
        var html = Markdown.ToHtml(markdown, _pipeline);
        lock (_sanitizer) return _sanitizer.Sanitize(html);
    }

    /// <summary>
    /// What the sanitizer would strip from this Markdown (script elements, event handlers, javascript: links...),
    /// so that a form can refuse it with a reason instead of storing text that silently renders differently.
    /// </summary>
    public IReadOnlyList<string> FindUnsafeParts(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown)) return [];
        var html = Markdown.ToHtml(markdown, _pipeline);
        var removed = new List<string>();
        void OnTag(object? sender, RemovingTagEventArgs e) => removed.Add($"a <{e.Tag.TagName.ToLowerInvariant()}> element");
        void OnAttribute(object? sender, RemovingAttributeEventArgs e) => removed.Add(
            e.Reason == RemoveReason.NotAllowedUrlValue ? $"a link to \"{e.Attribute.Value}\"" : $"the attribute {e.Attribute.Name}");
        lock (_sanitizer)
        {
            _sanitizer.RemovingTag += OnTag;
            _sanitizer.RemovingAttribute += OnAttribute;
            try { _sanitizer.Sanitize(html); }
            finally
            {
                _sanitizer.RemovingTag -= OnTag;
                _sanitizer.RemovingAttribute -= OnAttribute;
            }
        }
        return removed.Distinct().ToList();
    }

    private static HtmlSanitizer CreateSanitizer()
    {
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedSchemes.Clear();
        foreach (var scheme in new[] { "http", "https", "mailto" }) sanitizer.AllowedSchemes.Add(scheme);
        // Task lists render as disabled checkboxes; ids let headings be linked.
        sanitizer.AllowedAttributes.Add("class");
        sanitizer.AllowedAttributes.Add("id");
        sanitizer.AllowedAttributes.Add("checked");
        sanitizer.AllowedAttributes.Add("disabled");
        sanitizer.AllowedTags.Add("input");
        return sanitizer;
    }
}
