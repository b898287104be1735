namespace Portal.Web.Infrastructure;

public enum PortalErrorKind { Validation, NotFound, Forbidden, Conflict }

/// <summary>
/// An error the user caused and can read: pages show its message, endpoints map its kind to a status code.
/// Thrown before anything is written, so the stored data stays as it was. <see cref="Field"/> names the input the
/// message is about (the request's property name), so that a form can show it on that field.
/// </summary>
public sealed class PortalError(PortalErrorKind kind, string message, string? field = null) : Exception(message)
{
    public PortalErrorKind Kind { get; } = kind;
    public string? Field { get; } = field;

    public static PortalError Validation(string message, string? field = null) => new(PortalErrorKind.Validation, message, field);
    public static PortalError NotFound(string message) => new(PortalErrorKind.NotFound, message);
    public static PortalError Forbidden(string message) => new(PortalErrorKind.Forbidden, message);
    public static PortalError Conflict(string message, string? field = null) => new(PortalErrorKind.Conflict, message, field);

    public int StatusCode => Kind switch
    {
        PortalErrorKind.Validation => StatusCodes.Status400BadRequest,
        PortalErrorKind.NotFound => StatusCodes.Status404NotFound,
        PortalErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status409Conflict,
    };
}
