using MudBlazor;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Design;

/// <summary>Runs a user action from a component: a <see cref="PortalError"/> becomes a snackbar with its message, anything else propagates.</summary>
public static class SnackbarActions
{
    public static async Task<bool> TryAsync(this ISnackbar snackbar, Func<Task> action, string? done = null)
    {
        try
        {
            await action();
            if (done is not null) snackbar.Add(done, Severity.Success);
            return true;
        }
        catch (PortalError e)
        {
            snackbar.Add(e.Message, Severity.Error);
            return false;
        }
    }
}
