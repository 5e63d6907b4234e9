using Microsoft.EntityFrameworkCore;

namespace PreferenceStudio.Core.Data;

/// <summary>
/// Runs a unit of work that holds its own transaction again, on a fresh context, when the database fails it
/// transiently (a restart, a dropped connection). Only for units that are safe to repeat: storing an answer under its
/// idempotency key finds the answer a lost commit did store, serving a pair finds the serving it made.
/// </summary>
public static class DatabaseRetry
{
    /// <summary>Tries in all; each statement outside the unit's transaction is also retried by <see cref="StudioExecutionStrategy"/>.</summary>
    public const int Attempts = 6;

    public static async Task<T> RunAsync<T>(this IDbContextFactory<StudioDbContext> factory, Func<StudioDbContext, Task<T>> unit, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await factory.CreateDbContextAsync(ct);
                return await unit(db);
            }
            // A statement outside the transaction that gave up has had its retries (RetryLimitExceededException): only a
            // failure inside the transaction, which nobody retried, is worth the whole unit again.
            catch (Exception ex) when (attempt < Attempts && ex is not Microsoft.EntityFrameworkCore.Storage.RetryLimitExceededException
                                       && StudioExecutionStrategy.IsTransient(ex) && !ct.IsCancellationRequested)
            {
                // 0.25, 0.5, 1, 2, 4 s: a restart takes a second or two, its start-up refusals (57P03) a moment more.
                await Task.Delay(TimeSpan.FromMilliseconds(250 << (attempt - 1)), ct);
            }
        }
    }
}
