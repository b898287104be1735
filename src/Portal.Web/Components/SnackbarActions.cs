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

    /// <summary>
    /// Runs a form's action: its input's refusals (a validation error, or any error that names a field) go on the
    /// form through <paramref name="errors"/>; other refusals (not allowed, gone) are still a snackbar.
    /// </summary>
    public static async Task<bool> TryAsync(this ISnackbar snackbar, FormErrors errors, Func<Task> action, string? done = null, Severity failure = Severity.Error)
    {
        errors.Clear();
        try
        {
            await action();
            if (done is not null) snackbar.Add(done, Severity.Success);
            return true;
        }
        catch (PortalError e) when (e.Kind == PortalErrorKind.Validation || e.Field is not null)
        {
            errors.Show(e);
            return false;
        }
        catch (PortalError e)
        {
            snackbar.Add(e.Message, failure);
            return false;
        }
    }
}
