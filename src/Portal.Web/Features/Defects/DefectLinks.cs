namespace Portal.Web.Features.Defects;

/// <summary>Addresses of the defect pages, so every "Report a defect" builds the same prefill query.</summary>
public static class DefectLinks
{
    /// <summary>The project's defect form, prefilled with whatever evidence is given (the query DefectsPage reads).</summary>
    public static string Report(long projectId, long? runId = null, string? layer = null, long? taskId = null, long? designId = null,
        long? discrepancyId = null, long? checklistItemId = null)
    {
        var query = new List<string>();
        if (runId is { } r) query.Add($"run={r}");
        if (!string.IsNullOrEmpty(layer)) query.Add($"layer={Uri.EscapeDataString(layer)}");
        if (taskId is { } t) query.Add($"task={t}");
        if (designId is { } d) query.Add($"design={d}");
        if (discrepancyId is { } x) query.Add($"discrepancy={x}");
        if (checklistItemId is { } c) query.Add($"checklist={c}");
        return query.Count == 0 ? $"projects/{projectId}/defects" : $"projects/{projectId}/defects?{string.Join('&', query)}";
    }
}
