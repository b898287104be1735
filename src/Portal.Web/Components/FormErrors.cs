using Portal.Web.Infrastructure;

namespace Portal.Web.Components;

/// <summary>
/// The errors of one form, kept where the user acts on them: a <see cref="PortalError"/> that names a field is shown
/// on that field, any other refusal of the form's input in a <see cref="FormAlert"/> inside the form. Snackbars stack
/// and cover the controls, and are gone before a long message is read; these stay until the next try.
/// </summary>
public sealed class FormErrors
{
    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);

    /// <summary>The message that concerns the whole form, or null.</summary>
    public string? Form { get; private set; }

    /// <summary>Whether the field has an error (for MudBlazor's Error parameter).</summary>
    public bool On(string field) => _fields.ContainsKey(field);

    /// <summary>The field's error, or null (for MudBlazor's ErrorText parameter).</summary>
    public string? For(string field) => _fields.GetValueOrDefault(field);

    public void Show(PortalError error)
    {
        if (error.Field is { } field) _fields[field] = error.Message;
        else Form = error.Message;
    }

    /// <summary>Forgets a field's error once the user changes it.</summary>
    public void Clear(string field) => _fields.Remove(field);

    public void Clear()
    {
        _fields.Clear();
        Form = null;
    }
}
