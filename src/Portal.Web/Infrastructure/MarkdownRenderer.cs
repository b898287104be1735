using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Ganss.Xss;
using Markdig;
using Markdig.Extensions.TaskLists;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Markdown to HTML that is safe to show, the one policy for every Markdown surface (design documents, task
/// descriptions, model cards): Markdig, then an HTML sanitizer that keeps text structure only. No script, event
/// handler or javascript:/data: link; and nothing that lets a document dress the page as something else: no
/// style, class or id, no forms, inputs, buttons or frames. Images from other sites are shown as links.
/// </summary>
public sealed class MarkdownRenderer
{
    private readonly MarkdownPipeline _pipeline = new MarkdownPipelineBuilder()
        .UseAdvancedExtensions()
        .Build();

    private readonly HtmlSanitizer _sanitizer = CreateSanitizer();

    /// <summary>Attributes Markdig writes itself; removing them changes nothing an author wrote.</summary>
    private static readonly HashSet<string> GeneratedAttributes = new(StringComparer.OrdinalIgnoreCase) { "class", "id" };

    public string ToSafeHtml(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown)) return "";
        var html = ToHtml(markdown);
        lock (_sanitizer) return _sanitizer.Sanitize(html);
    }

    /// <summary>
    /// What the sanitizer would strip from this Markdown (script elements, event handlers, javascript: links...),
    /// so that a form can refuse it with a reason instead of storing text that silently renders differently.
    /// </summary>
    public IReadOnlyList<string> FindUnsafeParts(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown)) return [];
        var html = ToHtml(markdown);
        var removed = new List<string>();
        void OnTag(object? sender, RemovingTagEventArgs e) => removed.Add($"a <{e.Tag.TagName.ToLowerInvariant()}> element");
        void OnAttribute(object? sender, RemovingAttributeEventArgs e)
        {
            if (e.Reason == RemoveReason.NotAllowedAttribute && GeneratedAttributes.Contains(e.Attribute.Name)) return;
            removed.Add(e.Reason == RemoveReason.NotAllowedUrlValue ? $"a link to \"{e.Attribute.Value}\"" : $"the attribute {e.Attribute.Name}");
        }
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

    /// <summary>Task-list boxes become ☑ / ☐ text, so that no input element is needed.</summary>
    private string ToHtml(string markdown)
    {
        var document = Markdown.Parse(markdown, _pipeline);
        foreach (var box in document.Descendants<TaskList>().ToList())
            box.ReplaceBy(new LiteralInline(box.Checked ? "☑" : "☐"));
        return document.ToHtml(_pipeline);
    }

    private static HtmlSanitizer CreateSanitizer()
    {
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedSchemes.Clear();
        foreach (var scheme in new[] { "http", "https", "mailto" }) sanitizer.AllowedSchemes.Add(scheme);
        foreach (var tag in new[]
                 {
                     "form", "input", "button", "select", "option", "optgroup", "textarea", "label", "fieldset", "legend",
                     "datalist", "output", "iframe", "frame", "frameset", "object", "embed", "style", "link", "meta", "base",
                     "svg", "math", "dialog", "template", "slot", "portal", "area", "map", "audio", "video", "source", "track",
                 })
            sanitizer.AllowedTags.Remove(tag);
        foreach (var attribute in new[] { "style", "class", "id", "name", "target", "action", "formaction", "srcset", "usemap", "tabindex", "accesskey" })
            sanitizer.AllowedAttributes.Remove(attribute);
        sanitizer.AllowedCssProperties.Clear();
        sanitizer.AllowedAtRules.Clear();
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is IHtmlImageElement image && IsExternal(image.GetAttribute("src")))
            {
                // An image from another site would tell it who reads the page, and when: show where it is instead.
                var link = e.Document.CreateElement("a");
                var source = image.GetAttribute("src")!;
                link.SetAttribute("href", source);
                link.SetAttribute("rel", "noopener noreferrer nofollow");
                link.TextContent = "image: " + (string.IsNullOrWhiteSpace(image.GetAttribute("alt")) ? source : image.GetAttribute("alt"));
                e.ReplacementNodes.Add(link);
            }
            else if (e.Node is IHtmlAnchorElement anchor && anchor.HasAttribute("href"))
            {
                anchor.SetAttribute("rel", "noopener noreferrer nofollow");
            }
        };
        return sanitizer;
    }

    private static bool IsExternal(string? source) =>
        source is not null && (source.TrimStart().StartsWith("//") || Uri.TryCreate(source.Trim(), UriKind.Absolute, out _));
}
