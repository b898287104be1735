using System.Text;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Design;

public static class DesignLimits
{
    /// <summary>1 MB of UTF-8: a design document is prose, tables and snippets, not a data dump.</summary>
    public const int MaxMarkdownBytes = 1_000_000;
    public const int MaxTitleLength = 200;
    public const int MaxCommentLength = 4_000;
}

/// <summary>
/// What a design document's Markdown may contain. The renderer sanitizes anyway; this refuses script up front so
/// that the author learns their text will not show as written, instead of having it silently stripped.
/// Script shown inside code blocks is text and stays allowed.
/// </summary>
public static partial class MarkdownPolicy
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static void Validate(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown)) throw PortalError.Validation("A design document needs some text.");
        var bytes = Encoding.UTF8.GetByteCount(markdown);
        if (bytes > DesignLimits.MaxMarkdownBytes)
            throw PortalError.Validation($"The document is {bytes / 1024.0 / 1024.0:0.##} MB; the limit is 1 MB. Move data or logs to run artifacts and link them.");

        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var node in document.Descendants())
        {
            var (text, line) = node switch
            {
                HtmlBlock block => (block.Lines.ToString(), block.Line),
                HtmlInline inline => (inline.Tag, inline.Line),
                LinkInline link => (link.Url ?? "", link.Line),
                AutolinkInline auto => (auto.Url, auto.Line),
                _ => ("", 0),
            };
            if (text.Length > 0 && Dangerous().IsMatch(text))
                throw PortalError.Validation($"Line {line + 1} contains script (a script tag, an event handler or a javascript: link). Put code examples in a fenced code block.");
        }
    }

    [GeneratedRegex(@"<\s*/?\s*(script|iframe|object|embed|style|form|meta|link|base)\b|\son[a-z]+\s*=|^\s*(javascript|vbscript|data)\s*:|[""'=\s](javascript|vbscript)\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex Dangerous();
}
