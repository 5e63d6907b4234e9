using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL;

namespace PreferenceStudio.Core.Data;

/// <summary>
/// Npgsql's retrying execution strategy, made to live beside the studio's own transactions. A statement outside a
/// transaction (a query, a SaveChanges, an ExecuteUpdate) is retried on a transient error, as Npgsql's strategy does:
/// a PostgreSQL restart is a pause of a few seconds, not an error page. A statement inside a transaction that was not
/// begun by this strategy runs once, as before, instead of EF Core refusing it: a retry there would have to repeat the
/// whole transaction, which only its owner can do. The paths that must survive a restart (storing an answer, serving
/// a pair, undo) run their transactions through <see cref="StudioDatabase.RetryAsync{T}"/>, which repeats the whole
/// unit; the worker's steps are retried as jobs.
/// </summary>
public sealed class StudioExecutionStrategy(ExecutionStrategyDependencies dependencies)
    : NpgsqlRetryingExecutionStrategy(dependencies, MaxRetries, MaxDelay, TransientCodes)
{
    /// <summary>
    /// About 13 s of retries in all (exponential back-off with jitter, each wait at most <see cref="MaxDelay"/>): a
    /// restart takes one or two seconds, and a caller kept waiting much longer had better hear that it failed.
    /// </summary>
    public const int MaxRetries = 6;
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(3);

    /// <summary>
    /// What a restart looks like from a client: the server terminating sessions (57P01, 57P02), refusing them while
    /// it starts (57P03). Npgsql already counts most of these as transient; naming them keeps it so.
    /// </summary>
    private static readonly string[] TransientCodes = ["57P01", "57P02", "57P03"];

    private bool _insideOuterTransaction;

    /// <summary>
    /// A retrying strategy makes EF Core buffer each query's whole result (so a retry can start over); a context that
    /// streams a large result (an export of a million labels) turns that off with <see cref="StudioDbContext.StreamingReads"/>
    /// and is not retried: it reads in constant memory instead.
    /// </summary>
    public override bool RetriesOnFailure =>
        base.RetriesOnFailure && Dependencies.CurrentContext.Context is not StudioDbContext { StreamingReads: true };

    protected override void OnFirstExecution()
    {
        var database = Dependencies.CurrentContext.Context.Database;
        _insideOuterTransaction = database.CurrentTransaction is not null;
        // The base refuses to run in a transaction it does not own; here such a run simply gets no retries.
        if (!_insideOuterTransaction) base.OnFirstExecution();
        else ExceptionsEncountered.Clear();
    }

    protected override TimeSpan? GetNextDelay(Exception lastException) =>
        _insideOuterTransaction ? null : base.GetNextDelay(lastException);

    /// <summary>Whether <paramref name="exception"/> (or what it wraps) is a fault that a retry may get past.</summary>
    public static bool IsTransient(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException pg && TransientCodes.Contains(pg.SqlState)) return true;
            if (e is NpgsqlException { IsTransient: true }) return true;
            if (e is RetryLimitExceededException) return true;
        }
        return false;
    }
}
