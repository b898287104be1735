using MudBlazor;
using Portal.Web.Infrastructure;

namespace Portal.Web.Components;

/// <summary>
/// Runs a user action from a component: a <see cref="PortalError"/> becomes a snackbar with its message (the
/// action's own rule, said once, where the user acted); anything else propagates to the circuit's error handling.
/// </summary>
public static class SnackbarActions
{
    public static async Task<bool> TryAsync(this ISnackbar snackbar, Func<Task> action, string? done = null, Severity failure = Severity.Error)
    {
        try
        {
            await action();
            if (done is not null) snackbar.Add(done, Severity.Success);
            return true;
        }
        catch (PortalError e)
        {
            snackbar.Add(e.Message, failure);
            return false;
        }
    }
}
