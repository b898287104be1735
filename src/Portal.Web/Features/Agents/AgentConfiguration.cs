using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Web.Features.Runs;

namespace Portal.Web.Features.Agents;

internal sealed class AgentTokenConfiguration : IEntityTypeConfiguration<AgentToken>
{
    public void Configure(EntityTypeBuilder<AgentToken> b)
    {
        b.HasIndex(t => t.TokenHash).IsUnique();
        // An agent registers with a token; the token cannot be deleted while an agent refers to it.
        b.HasMany<Agent>().WithOne().HasForeignKey(a => a.TokenId).OnDelete(DeleteBehavior.Restrict);
    }
}
