using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Portal.Web.Features.Account;
using Portal.Web.Features.Agents;
using Portal.Web.Features.Analysis;
using Portal.Web.Features.Design;
using Portal.Web.Features.Inbox;
using Portal.Web.Features.Projects;
using Portal.Web.Features.Releases;
using Portal.Web.Features.Runs;
using Portal.Web.Features.Tasks;

namespace Portal.Web.Data;

/// <summary>
/// The portal's one DbContext. Entity configurations live beside their features. On PostgreSQL the same model is
/// used through <see cref="PostgresPortalDbContext"/>, a subclass that exists only so that each engine keeps its own
/// migrations (EF ties a migration to one context type) (docs/decisions/0018).
/// </summary>
public class PortalDbContext : IdentityDbContext<PortalUser>, Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.IDataProtectionKeyContext
{
    public PortalDbContext(DbContextOptions<PortalDbContext> options) : base(options) { }

    protected PortalDbContext(DbContextOptions options) : base(options) { }

    public DbSet<Project> Projects => Set<Project>();
    public DbSet<PaperClaim> PaperClaims => Set<PaperClaim>();
    public DbSet<ReferenceImplementation> ReferenceImplementations => Set<ReferenceImplementation>();
    public DbSet<StageTransition> StageTransitions => Set<StageTransition>();
    public DbSet<ActivityEntry> Activity => Set<ActivityEntry>();
    public DbSet<ProjectTask> Tasks => Set<ProjectTask>();
    public DbSet<TaskComment> TaskComments => Set<TaskComment>();
    public DbSet<Features.Defects.Defect> Defects => Set<Features.Defects.Defect>();

    public DbSet<Run> Runs => Set<Run>();
    public DbSet<RunFinalMetric> RunFinalMetrics => Set<RunFinalMetric>();
    public DbSet<MetricPoint> MetricPoints => Set<MetricPoint>();
    public DbSet<RunLogLine> RunLogLines => Set<RunLogLine>();
    public DbSet<RunArtifact> RunArtifacts => Set<RunArtifact>();
    public DbSet<RunRefusal> RunRefusals => Set<RunRefusal>();
    public DbSet<RunRestart> RunRestarts => Set<RunRestart>();
    public DbSet<Agent> Agents => Set<Agent>();
    public DbSet<AgentToken> AgentTokens => Set<AgentToken>();
    public DbSet<Features.Api.PersonalAccessToken> PersonalAccessTokens => Set<Features.Api.PersonalAccessToken>();

    public DbSet<DesignDocument> DesignDocuments => Set<DesignDocument>();
    public DbSet<DesignDocumentVersion> DesignDocumentVersions => Set<DesignDocumentVersion>();
    public DbSet<ReviewRequest> ReviewRequests => Set<ReviewRequest>();
    public DbSet<ReviewVerdict> ReviewVerdicts => Set<ReviewVerdict>();
    public DbSet<ReviewThread> ReviewThreads => Set<ReviewThread>();
    public DbSet<ReviewComment> ReviewComments => Set<ReviewComment>();

    public DbSet<ChecklistItem> ChecklistItems => Set<ChecklistItem>();
    public DbSet<ChecklistAnswerRevision> ChecklistAnswerRevisions => Set<ChecklistAnswerRevision>();
    public DbSet<Discrepancy> Discrepancies => Set<Discrepancy>();
    public DbSet<AuthorQuestion> AuthorQuestions => Set<AuthorQuestion>();
    public DbSet<Hyperparameter> Hyperparameters => Set<Hyperparameter>();
    public DbSet<ContractField> ContractFields => Set<ContractField>();

    public DbSet<Notification> Notifications => Set<Notification>();

    public DbSet<Release> Releases => Set<Release>();
    public DbSet<ReleaseRun> ReleaseRuns => Set<ReleaseRun>();
    public DbSet<ReleaseApproval> ReleaseApprovals => Set<ReleaseApproval>();
    public DbSet<ReleaseAuditEntry> ReleaseAudit => Set<ReleaseAuditEntry>();

    /// <summary>Data Protection's key ring, used on PostgreSQL and shared by every instance (docs/decisions/0018).</summary>
    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys =>
        Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot compare or order DateTimeOffset values; stored as sortable integers they can.
        if (Database.IsSqlite())
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
        else
        {
            // PostgreSQL's timestamptz takes only UTC offsets; an agent's clock may send another.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcDateTimeOffsetConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<UtcDateTimeOffsetConverter>();
        }
    }
}

/// <summary>The same instant at offset zero, as PostgreSQL stores it.</summary>
public sealed class UtcDateTimeOffsetConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(v => v.ToUniversalTime(), v => v);
