using System.Collections.Concurrent;

namespace Portal.Web.Features.Account;

/// <summary>
/// The open circuits of this server by user. When a user is deactivated, their roles change or they sign out, the
/// circuits of that user check their sign-in again at once instead of at their next periodic revalidation.
/// </summary>
public sealed class UserSessions
{
    private readonly ConcurrentDictionary<object, Func<string, Task>> _circuits = new();

    public IDisposable Register(Func<string, Task> recheck)
    {
        var key = new object();
        _circuits[key] = recheck;
        return new Registration(() => _circuits.TryRemove(key, out _));
    }

    /// <summary>Tells every open circuit that the sign-in of <paramref name="userId"/> has to be checked again.</summary>
    public Task EndAsync(string userId) => Task.WhenAll(_circuits.Values.Select(recheck => recheck(userId)));

    private sealed class Registration(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }
}
