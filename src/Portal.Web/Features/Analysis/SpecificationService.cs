using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Web.Data;
using Portal.Web.Features.Tasks;
using Portal.Web.Infrastructure;
using static Portal.Web.Features.Analysis.AnalysisLogService;

namespace Portal.Web.Features.Analysis;

public sealed record HyperparameterView(long Id, string Name, string PaperValue, string PaperSource, string ReferenceValue,
    string ReferenceSource, string OurValue, bool IsMismatch);

public sealed record ContractFieldView(long Id, ModelComponent Component, ContractDirection Direction, string Name, string Shape, string DType, string Meaning);

/// <summary>What the implementation must match: the hyperparameter table and the components' input/output contracts.</summary>
public sealed class SpecificationService(IDbContextFactory<PortalDbContext> dbFactory, LiveUpdates live)
{
    public async Task<IReadOnlyList<HyperparameterView>> HyperparametersAsync(long projectId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Hyperparameters.AsNoTracking().Where(h => h.ProjectId == projectId).OrderBy(h => h.Name).ToListAsync(ct);
        return rows.Select(h => new HyperparameterView(h.Id, h.Name, h.PaperValue, h.PaperSource, h.ReferenceValue, h.ReferenceSource, h.OurValue,
            HyperparameterRules.IsMismatch(h.PaperValue, h.ReferenceValue, h.OurValue))).ToList();
    }

    /// <summary>Adds the hyperparameter, or updates the row of that name.</summary>
    public async Task SetHyperparameterAsync(Actor actor, long projectId, string name, string paperValue, string paperSource,
        string referenceValue, string referenceSource, string ourValue, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        name = Required(name, "Name the hyperparameter.");
        if (string.IsNullOrWhiteSpace(paperValue) && string.IsNullOrWhiteSpace(referenceValue) && string.IsNullOrWhiteSpace(ourValue))
            throw PortalError.Validation("Give at least one value: the paper's, the reference code's or ours.");
        if (!string.IsNullOrWhiteSpace(paperValue) && string.IsNullOrWhiteSpace(paperSource))
            throw PortalError.Validation("Say where in the paper the value is (section, table or equation).");
        if (!string.IsNullOrWhiteSpace(referenceValue) && string.IsNullOrWhiteSpace(referenceSource))
            throw PortalError.Validation("Say where in the reference code the value is (file and line).");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireProjectAsync(db, projectId, ct);
        var row = await db.Hyperparameters.FirstOrDefaultAsync(h => h.ProjectId == projectId && h.Name == name, ct);
        if (row is null) db.Hyperparameters.Add(row = new Hyperparameter { ProjectId = projectId, Name = name });
        (row.PaperValue, row.PaperSource, row.ReferenceValue, row.ReferenceSource, row.OurValue) =
            (Optional(paperValue), Optional(paperSource), Optional(referenceValue), Optional(referenceSource), Optional(ourValue));
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(projectId));
    }

    public async Task<IReadOnlyList<ContractFieldView>> ContractsAsync(long projectId, ModelComponent? component = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ContractFields.AsNoTracking()
            .Where(f => f.ProjectId == projectId && (component == null || f.Component == component))
            .OrderBy(f => f.Component).ThenBy(f => f.Direction).ThenBy(f => f.Position)
            .Select(f => new ContractFieldView(f.Id, f.Component, f.Direction, f.Name, f.Shape, f.DType, f.Meaning))
            .ToListAsync(ct);
    }

    public async Task<long> AddContractFieldAsync(Actor actor, long projectId, ModelComponent component, ContractDirection direction,
        string name, string shape, string dtype, string meaning, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        name = Required(name, "Name the input or output.");
        shape = Required(shape, "Give the shape, e.g. [B, 3, H, W].");
        dtype = Required(dtype, "Give the dtype, e.g. float32.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireProjectAsync(db, projectId, ct);
        var existing = db.ContractFields.Where(f => f.ProjectId == projectId && f.Component == component && f.Direction == direction);
        if (await existing.AnyAsync(f => f.Name == name, ct))
            throw PortalError.Conflict($"The {component} already has an {direction.ToString().ToLowerInvariant()} named {name}.");
        var field = new ContractField
        {
            ProjectId = projectId, Component = component, Direction = direction, Name = name, Shape = shape, DType = dtype,
            Meaning = Optional(meaning), Position = await existing.CountAsync(ct),
        };
        db.ContractFields.Add(field);
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(projectId));
        return field.Id;
    }

    public async Task RemoveContractFieldAsync(Actor actor, long fieldId, CancellationToken ct = default)
    {
        actor = await dbFactory.RefreshAsync(actor, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var field = await db.ContractFields.FirstOrDefaultAsync(f => f.Id == fieldId, ct) ?? throw PortalError.NotFound($"There is no contract field {fieldId}.");
        db.ContractFields.Remove(field);
        await db.SaveChangesAsync(ct);
        live.Publish(Topics.Project(field.ProjectId));
    }
}

/// <summary>When the paper, the reference code and the team's value disagree.</summary>
public static class HyperparameterRules
{
    /// <summary>True when two of the given (non-empty) values differ: numbers by value (0.001 = 1e-3), other text ignoring case and spaces.</summary>
    public static bool IsMismatch(params string?[] values) =>
        values.Where(v => !string.IsNullOrWhiteSpace(v)).Select(Normalize).Distinct().Skip(1).Any();

    private static string Normalize(string? value)
    {
        var text = string.Concat((value ?? "").Where(c => !char.IsWhiteSpace(c))).ToLowerInvariant();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number.ToString("R", CultureInfo.InvariantCulture)
            : text;
    }
}
