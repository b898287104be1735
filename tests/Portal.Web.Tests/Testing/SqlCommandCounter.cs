using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Portal.Web.Tests.Testing;

/// <summary>Counts the SQL commands EF Core sends, to hold a read or a change to a fixed number of round trips.</summary>
public sealed class SqlCommandCounter : DbCommandInterceptor
{
    private readonly ConcurrentQueue<string> _commands = new();

    public IReadOnlyList<string> Commands => [.. _commands];
    public int Count => _commands.Count;
    public void Reset() => _commands.Clear();

    /// <summary>The commands <paramref name="action"/> sends.</summary>
    public async Task<IReadOnlyList<string>> CountAsync(Func<Task> action)
    {
        Reset();
        await action();
        return Commands;
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    { _commands.Enqueue(command.CommandText); return result; }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    { _commands.Enqueue(command.CommandText); return ValueTask.FromResult(result); }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    { _commands.Enqueue(command.CommandText); return result; }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    { _commands.Enqueue(command.CommandText); return ValueTask.FromResult(result); }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    { _commands.Enqueue(command.CommandText); return result; }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    { _commands.Enqueue(command.CommandText); return ValueTask.FromResult(result); }
}
