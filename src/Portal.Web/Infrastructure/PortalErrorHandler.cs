using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Diagnostics;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Turns errors a client caused into a problem response that says what was wrong: a <see cref="PortalError"/>
/// from a feature, a form without its antiforgery token, or a request the framework could not bind.
/// </summary>
public sealed class PortalErrorHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title) = exception switch
        {
            PortalError e => (e.StatusCode, e.Message),
            Features.Api.PreconditionFailedException e => (StatusCodes.Status412PreconditionFailed, e.Message),
            Features.Api.PreconditionRequiredException e => (StatusCodes.Status428PreconditionRequired, e.Message),
            BadHttpRequestException { InnerException: System.Text.Json.JsonException json } => (StatusCodes.Status400BadRequest,
                "The request body is not valid for this endpoint: " + json.Message),
            AntiforgeryValidationException => (StatusCodes.Status400BadRequest,
                "The form was sent without a valid antiforgery token. Reload the page and try again."),
            BadHttpRequestException { InnerException: AntiforgeryValidationException } => (StatusCodes.Status400BadRequest,
                "The form was sent without a valid antiforgery token. Reload the page and try again."),
            BadHttpRequestException e => (e.StatusCode, e.Message),
            _ => (0, ""),
        };
        if (status == 0) return false;
        context.Response.StatusCode = status;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title },
        });
    }
}
