namespace Portal.Web.Infrastructure;

public enum PortalErrorKind { Validation, NotFound, Forbidden, Conflict }

/// <summary>
/// An error the user caused and can read: pages show its message, endpoints map its kind to a status code.
/// Thrown before anything is written, so the stored data stays as it was.
/// </summary>
public sealed class PortalError(PortalErrorKind kind, string message) : Exception(message)
{
    public PortalErrorKind Kind { get; } = kind;

    public static PortalError Validation(string message) => new(PortalErrorKind.Validation, message);
    public static PortalError NotFound(string message) => new(PortalErrorKind.NotFound, message);
    public static PortalError Forbidden(string message) => new(PortalErrorKind.Forbidden, message);
    public static PortalError Conflict(string message) => new(PortalErrorKind.Conflict, message);

    public int StatusCode => Kind switch
    {
        PortalErrorKind.Validation => StatusCodes.Status400BadRequest,
        PortalErrorKind.NotFound => StatusCodes.Status404NotFound,
        PortalErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status409Conflict,
    };
}
