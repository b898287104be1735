namespace Portal.Web.Features.Activity;

/// <summary>
/// The addresses an activity entry links to, relative to the portal's base, so that the feed takes a reader to what
/// an entry names. The pages read the same query parameters (the board's <c>task</c>, the analysis page's <c>tab</c>).
/// </summary>
public static class ActivityLinks
{
    public const int MaxLength = 300;

    public static string Task(long projectId, long taskId) => $"projects/{projectId}/board?task={taskId}";
    public static string Run(long runId) => $"runs/{runId}";
    public static string Document(long projectId, long documentId) => $"projects/{projectId}/design/{documentId}";
    public static string Defect(long projectId, long defectId) => $"projects/{projectId}/defects?defect={defectId}";
    public static string Defects(long projectId) => $"projects/{projectId}/defects";
    public static string Release(long releaseId) => $"releases/{releaseId}";
    public static string Project(long projectId) => $"projects/{projectId}";
    public static string Analysis(long projectId, string tab) => $"projects/{projectId}/analysis?tab={tab}";
}
