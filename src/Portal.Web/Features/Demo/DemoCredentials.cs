using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Web.Data;
using Portal.Web.Features.Account;

namespace Portal.Web.Features.Demo;

/// <summary>
/// The demo accounts share a published password and run.sh's agent token sits in a script, so outside demo mode
/// the portal refuses a database where any of them still works, and names the command that deactivates them.
/// </summary>
public static class DemoCredentials
{
    public const string EmailDomain = "@demo.portal.local";
    public const string AgentTokenName = "Demo local agent";
    public const string DeactivateCommand = "deactivate-demo";

    public static string CommandLine(string dataDirectory) =>
        $"dotnet run --project src/Portal.Web -- --data \"{dataDirectory}\" {DeactivateCommand}";

    public static async Task RefuseIfActiveAsync(IDbContextFactory<PortalDbContext> dbFactory, string dataDirectory, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var accounts = await ActiveAccounts(db).CountAsync(cancellationToken);
        var tokens = await ActiveTokens(db).CountAsync(cancellationToken);
        if (accounts == 0 && tokens == 0) return;
        throw new InvalidOperationException(
            $"Demo mode is off, but this database still has {accounts} active demo account(s) and {tokens} demo agent token(s), " +
            $"whose password and token are public. Deactivate them with: {CommandLine(dataDirectory)} " +
            "(or start with --demo true to keep running the demo).");
    }

    /// <summary>
    /// In demo mode, makes sure the configured local-agent token is stored, also on a demo database seeded by an
    /// earlier run (run.sh makes a new random token for a data folder that has none).
    /// </summary>
    public static async Task EnsureAgentTokenAsync(IDbContextFactory<PortalDbContext> dbFactory, string? token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token)) return;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var hash = Agents.AgentAuth.Hash(token.Trim());
        if (await db.AgentTokens.AnyAsync(t => t.TokenHash == hash && t.RevokedAt == null, cancellationToken)) return;
        var creator = await db.Users.Where(u => u.UserName == "techlead").Select(u => u.Id).FirstOrDefaultAsync(cancellationToken);
        if (creator is null) return;
        await Agents.AgentTokenService.AddAsync(db, AgentTokenName, token.Trim(), creator, now);
    }

    /// <summary>The <c>deactivate-demo</c> command: deactivates every demo account and revokes the demo agent tokens.</summary>
    public static async Task<int> DeactivateAsync(IServiceProvider services)
    {
        var dbFactory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await PortalDatabase.InitializeAsync(dbFactory);
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var accounts = await ActiveAccounts(db).ToListAsync();
        foreach (var user in accounts)
        {
            user.IsActive = false;
            // A new stamp also invalidates the cookies of demo sessions still open.
            await users.UpdateSecurityStampAsync(user);
        }
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var tokens = await ActiveTokens(db).ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now));
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        var folder = services.GetRequiredService<IOptions<PortalOptions>>().Value.ResolveDataDirectory();
        Console.WriteLine($"Deactivated {accounts.Count} demo account(s) and revoked {tokens} demo agent token(s) in {folder}.");
        return 0;
    }

    private static IQueryable<PortalUser> ActiveAccounts(PortalDbContext db) =>
        db.Users.Where(u => u.IsActive && u.Email != null && u.Email.EndsWith(EmailDomain));

    private static IQueryable<Agents.AgentToken> ActiveTokens(PortalDbContext db) =>
        db.AgentTokens.Where(t => t.RevokedAt == null && t.Name == AgentTokenName);
}
