using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Account;

namespace Portal.Web.Features.Tasks;

/// <summary>A remark on a task, in Markdown, by anyone on the team.</summary>
public sealed class TaskComment
{
    public long Id { get; set; }
    public long TaskId { get; set; }
    public string AuthorId { get; set; } = "";
    public string BodyMarkdown { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class TaskCommentConfiguration : IEntityTypeConfiguration<TaskComment>
{
    /// <summary>A comment is a remark, not a document: longer text belongs in the task's description or a design document.</summary>
    public const int MaxBodyLength = 4_000;

    public void Configure(EntityTypeBuilder<TaskComment> b)
    {
        b.Property(c => c.BodyMarkdown).HasMaxLength(MaxBodyLength);
        b.HasIndex(c => new { c.TaskId, c.CreatedAt });
        b.HasOne<ProjectTask>().WithMany().HasForeignKey(c => c.TaskId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PortalUser>().WithMany().HasForeignKey(c => c.AuthorId).OnDelete(DeleteBehavior.Restrict);
    }
}
