using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace PreferenceStudio.Web.Hosting;

/// <summary>
/// Turns exceptions that escape an API endpoint into ProblemDetails. <see cref="StudioProblemException"/> carries a
/// status and a message written for the caller; anything else is a 500 whose details stay in the log.
/// </summary>
public sealed class StudioExceptionHandler(IProblemDetailsService problemDetails, ILogger<StudioExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        ProblemDetails problem;
        if (exception is StudioValidationException invalid)
        {
            problem = new HttpValidationProblemDetails(invalid.Errors)
            {
                Status = StatusCodes.Status400BadRequest, Title = invalid.Title,
                Detail = "Fix the fields listed in errors and send the request again: " + string.Join(" ", invalid.Errors.SelectMany(e => e.Value)),
            };
        }
        else if (exception is StudioProblemException known)
        {
            problem = new ProblemDetails { Status = known.StatusCode, Title = known.Title, Detail = known.Message };
        }
        else if (exception is BadHttpRequestException bad)
        {
            // The JSON reader's own message names the field and position that could not be read: pass it on.
            var detail = bad.InnerException is System.Text.Json.JsonException json ? $"{bad.Message} {json.Message}" : bad.Message;
            problem = new ProblemDetails { Status = bad.StatusCode, Title = "Bad request", Detail = detail };
        }
        else if (PreferenceStudio.Core.Data.StudioExecutionStrategy.IsTransient(exception))
        {
            // Retried for a while already: the database is restarting or out of reach. Nothing was half-stored.
            logger.LogWarning(exception, "The database was unreachable for {Path}", context.Request.Path);
            context.Response.Headers.RetryAfter = "5";
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Database unavailable",
                Detail = "The studio cannot reach its database for the moment (it may be restarting). Send the same request again in a few "
                    + "seconds; an answer resent with the same idempotency_key is stored once.",
            };
        }
        else
        {
            logger.LogError(exception, "Unhandled error on {Path}", context.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "Internal error",
                Detail = "The studio hit an unexpected error; it is in the server log. Retry, or report it with the time of the request.",
            };
        }
        context.Response.StatusCode = problem.Status ?? 500;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }
}

/// <summary>An error whose message tells the API caller what to fix.</summary>
public sealed class StudioProblemException(int statusCode, string title, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string Title { get; } = title;

    public static StudioProblemException NotFound(string what) => new(StatusCodes.Status404NotFound, "Not found", what);
    public static StudioProblemException Conflict(string message) => new(StatusCodes.Status409Conflict, "Conflict", message);
    public static StudioProblemException Invalid(string message) => new(StatusCodes.Status400BadRequest, "Invalid request", message);
    public static StudioProblemException Forbidden(string message) => new(StatusCodes.Status403Forbidden, "Forbidden", message);
    public static StudioProblemException TooLarge(string message) => new(StatusCodes.Status413PayloadTooLarge, "Request body too large", message);
    public static StudioProblemException UnsupportedMediaType(string message) => new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", message);
}

/// <summary>Request fields that are not usable, by field name (snake_case, as the caller sent them); answered as a validation problem.</summary>
public sealed class StudioValidationException(Dictionary<string, string[]> errors, string title = "The request is not usable")
    : Exception(title + ": " + string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public Dictionary<string, string[]> Errors { get; } = errors;
    public string Title { get; } = title;
}
