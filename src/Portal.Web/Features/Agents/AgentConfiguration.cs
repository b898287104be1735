using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Web.Features.Agents;

internal sealed class AgentConfiguration : IEntityTypeConfiguration<Agent>
{
    public void Configure(EntityTypeBuilder<Agent> b)
    {
        b.HasIndex(a => a.Name).IsUnique();
        b.HasOne<AgentToken>().WithMany().HasForeignKey(a => a.TokenId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AgentTokenConfiguration : IEntityTypeConfiguration<AgentToken>
{
    public void Configure(EntityTypeBuilder<AgentToken> b) => b.HasIndex(t => t.TokenHash).IsUnique();
}
