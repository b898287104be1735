using Portal.Web.Data;

namespace Portal.Web.Features.Runs;

/// <summary>
/// Something another feature keeps from a run's metric points (the curves' summaries). A resumed run writes its
/// steps after the checkpoint again, so the run service asks each of these to forget the run inside the resume's
/// transaction. Registered by the feature that keeps it, so runs do not depend on it.
/// </summary>
public interface IRunPointsDerived
{
    Task ForgetRunAsync(PortalDbContext db, long runId);
}
