using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;
using Portal.Web.Components;
using Portal.Web.Data;
using Portal.Web.Features.Account;
using Portal.Web.Features.Activity;
using Portal.Web.Features.Admin;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Api;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Curves;
using Portal.Web.Features.Defects;
using Portal.Web.Features.Demo;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;

namespace Portal.Web;

/// <summary>Everything Program.cs registers and maps, in one place.</summary>
public static class PortalServices
{
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder)
    {
        // `--data DIR` and `--demo` on the command line, besides the usual Portal:DataDirectory / Portal__DataDirectory.
        builder.Configuration.AddCommandLine(Environment.GetCommandLineArgs().Skip(1).ToArray(),
            new Dictionary<string, string> { ["--data"] = "Portal:DataDirectory", ["--demo"] = "Portal:Demo" });
        if (DescribesApiOnly)
        {
            // The build starts the app only to read its OpenAPI document: no database, data folder or Redis of anyone's.
            builder.Configuration["Portal:DataDirectory"] = Path.Combine(Path.GetTempPath(), "portal-openapi-build");
            builder.Configuration["Portal:Postgres"] = "";
            builder.Configuration["Portal:Redis"] = "";
        }
        builder.Services.Configure<PortalOptions>(builder.Configuration.GetSection(PortalOptions.Section));
        var options = builder.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
        var dataDirectory = options.ResolveDataDirectory();
        Directory.CreateDirectory(dataDirectory);

        // Package assets (_content/MudBlazor, the Blazor script) come from the build's manifest when the app runs
        // from its build output in any environment; a publish carries them in wwwroot instead.
        builder.WebHost.UseStaticWebAssets();

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        if (options.UsesPostgres)
        {
            // PostgreSQL when a connection string is configured: several instances can share it (docs/decisions/0018).
            services.AddDbContextFactory<PortalDbContext, PostgresDbContextFactory>(db => db.UseNpgsql(options.Postgres));
            // The keys that sign cookies and antiforgery tokens live in the database every instance needs anyway, so a
            // cookie from one instance is read by another, even one started while Redis is down.
            services.AddDataProtection().SetApplicationName("Portal").PersistKeysToDbContext<PortalDbContext>();
        }
        else
        {
            services.AddDbContextFactory<PortalDbContext>(db =>
                db.UseSqlite($"Data Source={Path.Combine(dataDirectory, "portal.db")};Default Timeout=30"));
        }

        services.AddIdentityCore<PortalUser>(o =>
            {
                o.User.RequireUniqueEmail = false;
                o.Lockout.MaxFailedAccessAttempts = 5;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager()
            .AddClaimsPrincipalFactory<PortalClaimsFactory>()
            .AddDefaultTokenProviders();
        services.AddAuthentication(IdentityConstants.ApplicationScheme).AddIdentityCookies();
        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = "/account/login";
            cookie.AccessDeniedPath = "/account/login";
            // Secure whenever the browser's request was HTTPS, also behind a TLS proxy (see UsePortalSecurity).
            cookie.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Events.OnRedirectToLogin = context => RefuseOrRedirect(context, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => RefuseOrRedirect(context, StatusCodes.Status403Forbidden);
        });
        // Every page and endpoint requires a signed-in user unless it says otherwise.
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddCascadingAuthenticationState();

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddSingleton<UserSessions>();
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, PortalAuthenticationStateProvider>();
        services.AddMudServices();
        var signalR = services.AddSignalR().AddMessagePackProtocol();
        if (options.UsesRedis)
        {
            // Several instances: hub messages and live topics go through Redis (docs/decisions/0018).
            signalR.AddPortalBackplane(options.Redis!);
            var redisConnection = ClusterBus.Connect(options.Redis!);
            services.AddSingleton(redisConnection);
            services.AddSingleton<ClusterBus>();
            services.AddHostedService(sp => sp.GetRequiredService<ClusterBus>());
        }
        services.AddProblemDetails();
        services.AddExceptionHandler<PortalErrorHandler>();

        services.AddPortalSecurity(builder.Configuration);
        services.AddSingleton<LiveUpdates>();
        services.AddSingleton<MarkdownRenderer>();
        services.AddScoped<CurrentActor>();
        services.AddSingleton<Features.Inbox.InboxNotifier>();
        services.AddSingleton<Features.Runs.MetricStream>();
        services.AddSingleton<DatabaseStartup>();
        services.AddHostedService<PortalDatabase>();
        services.AddPortalHealth(options);
        builder.AddPortalTelemetry();

        services.AddDemoFeature();
        services.AddProjectsFeature();
        services.AddReleasesFeature();
        services.AddAnalysisFeature();
        services.AddDesignFeature();
        services.AddInboxFeature();
        services.AddCurvesFeature();
        services.AddAgentsFeature();
        services.AddRunsFeature(builder.Configuration);
        services.AddTasksFeature();
        services.AddDefectsFeature();
        services.AddActivityFeature();
        services.AddAdminFeature();
        services.AddApiFeature(builder.Configuration);
        if (DescribesApiOnly)
        {
            // Nor any of the portal's background work (migrations, the metric writer, the watchdogs): the document
            // needs the endpoints and nothing else. The framework's own hosted services stay.
            var portalAssembly = typeof(PortalServices).Assembly;
            foreach (var hosted in services.Where(d => d.ServiceType == typeof(IHostedService)
                         && (d.ImplementationType?.Assembly == portalAssembly || d.ImplementationFactory?.Method.DeclaringType?.Assembly == portalAssembly)).ToList())
                services.Remove(hosted);
        }
        return builder;
    }

    /// <summary>
    /// True while the build's OpenAPI step (Microsoft.Extensions.ApiDescription.Server's GetDocument) runs the app to
    /// write docs of the API into the build output; that tool is then the entry assembly.
    /// </summary>
    public static bool DescribesApiOnly => System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name == "GetDocument.Insider";

    public static WebApplication UsePortal(this WebApplication app)
    {
        app.UseNotReadyUntilTheDatabaseIs();
        app.UsePortalSecurity();
        app.UseExceptionHandler();
        if (!app.Environment.IsDevelopment()) app.UseHsts();
        // Files of the top-level wwwroot are served before routing, so no page route can shadow them.
        app.UseStaticFiles();
        // An address no page or endpoint answers shows the portal's not-found page; APIs and hubs keep their bare status codes.
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api") && !c.Request.Path.StartsWithSegments("/hubs") && !c.Request.Path.StartsWithSegments("/_blazor"),
            b => b.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        // After authorization, so that the limiter partitions /api/v1 by the token that authenticated.
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapPortalHealth();
        app.MapAccountEndpoints();
        app.MapReleaseEndpoints();
        app.MapCurves();
        app.MapAgentHub();
        app.MapAgentEndpoints();
        app.MapRunEndpoints();
        app.MapTaskEndpoints();
        app.MapDefectEndpoints();
        app.MapApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    private static Task RefuseOrRedirect(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        // APIs and hubs answer with a status code; only pages are sent to the sign-in form.
        var path = context.Request.Path;
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/_blazor"))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}

public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>Folder for the SQLite database and stored artifacts. Relative paths start at the working directory.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Seed the demo team and projects when the database is empty.</summary>
    public bool Demo { get; set; }

    /// <summary>
    /// A PostgreSQL connection string (Npgsql's keywords). Set: the portal stores everything there instead of in the
    /// SQLite file, and several instances may share it. Artifacts stay under <see cref="DataDirectory"/>.
    /// </summary>
    public string? Postgres { get; set; }

    /// <summary>
    /// A Redis configuration string (StackExchange.Redis, e.g. "localhost:6379"). Set: SignalR, live updates and
    /// the metric fan-out reach every instance through it, and the Data Protection keys are kept there.
    /// </summary>
    public string? Redis { get; set; }

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Postgres);
    public bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);

    public string ResolveDataDirectory() => Path.GetFullPath(DataDirectory);
}
