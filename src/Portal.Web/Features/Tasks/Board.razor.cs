using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Web.Features.Projects;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Tasks;

/// <summary>The task board: markup plus calls to the task services; every rule lives in those services.</summary>
public partial class Board
{
    [Inject] private TaskBoard Tasks { get; set; } = default!;
    [Inject] private TaskClaims Claims { get; set; } = default!;
    [Inject] private TaskEditing Editing { get; set; } = default!;
    [Inject] private ProjectService Projects { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    [Parameter] public long ProjectId { get; set; }
    /// <summary>A task to open, e.g. from an assignment notification's link.</summary>
    [SupplyParameterFromQuery(Name = "task")] public long? TaskId { get; set; }

    private const int PrerenderedRows = 30;

    private Actor? _actor;
    private Project? _project;
    private BoardView? _view;
    private ICollection<BoardRow> _rows = [];
    private BoardFilter _filter = new();
    private TaskDetail? _selected;
    private TaskForm? _editing;
    private long? _editingId;
    private int _editingVersion;
    private IReadOnlyList<Assignable> _assignable = [];
    private string? _assignTo;
    private string? _error;

    private bool PanelOpen => _selected is not null || _editing is not null;

    protected override async Task OnParametersSetAsync()
    {
        try
        {
            _actor ??= await CurrentActor.GetAsync();
            _project = await Projects.GetAsync(ProjectId);
            await LoadRowsAsync();
            if (TaskId is { } id) await SelectAsync(id);
            _error = null;
        }
        catch (PortalError e) { _error = e.Message; }
    }

    private async Task LoadRowsAsync()
    {
        _view = await Tasks.GetAsync(_actor!, ProjectId, _filter);
        _rows = _view.Rows as ICollection<BoardRow> ?? _view.Rows.ToList();
    }

    /// <summary>Another user changed something in this project: re-read what is on screen.</summary>
    private async Task RefreshAsync()
    {
        try
        {
            _project = await Projects.GetAsync(ProjectId);
            await LoadRowsAsync();
            if (_selected is not null) _selected = await Tasks.GetTaskAsync(_selected.Id);
        }
        catch (PortalError e) when (e.Kind == PortalErrorKind.NotFound) { _selected = null; }
        StateHasChanged();
    }

    private async Task FilterAsync(BoardFilter filter)
    {
        _filter = filter;
        await Try(LoadRowsAsync);
    }

    private async Task SelectAsync(long taskId)
    {
        _editing = null;
        await Try(async () =>
        {
            _selected = await Tasks.GetTaskAsync(taskId);
            if (_selected.ProjectId != ProjectId) { _selected = null; throw PortalError.NotFound($"There is no task {taskId} in this project."); }
            if (TaskRules.CanManage(_actor!) && _assignable.Count == 0) _assignable = await Tasks.AssignableAsync();
            _assignTo = _selected.AssigneeId;
        });
    }

    private Task ActAsync(TaskAction action, long taskId) => Try(async () =>
    {
        await (action switch
        {
            TaskAction.Claim => Claims.ClaimAsync(_actor!, taskId),
            TaskAction.Unclaim => Claims.UnclaimAsync(_actor!, taskId),
            TaskAction.SubmitForReview => Claims.SubmitForReviewAsync(_actor!, taskId),
            _ => Claims.CompleteAsync(_actor!, taskId),
        });
        await RefreshAsync();
    }, refreshOnError: true);

    private Task AssignAsync() => Try(async () =>
    {
        await Claims.AssignAsync(_actor!, _selected!.Id, _assignTo ?? "");
        Snackbar.Add("Assigned; they have been notified.", Severity.Success);
        await RefreshAsync();
    }, refreshOnError: true);

    private void StartNew()
    {
        _selected = null;
        _editingId = null;
        _editing = new TaskForm { Stage = _project!.Stage };
    }

    private void StartEdit()
    {
        var t = _selected!;
        _editingId = t.Id;
        _editingVersion = t.Version;
        _editing = new TaskForm { Title = t.Title, Description = t.DescriptionMarkdown, Stage = t.Stage, Component = t.Component, EstimateHours = t.EstimateHours };
    }

    private Task SaveAsync() => Try(async () =>
    {
        var id = _editingId ?? await Editing.CreateAsync(_actor!, ProjectId, _editing!);
        if (_editingId is not null) await Editing.UpdateAsync(_actor!, id, _editingVersion, _editing!);
        _editing = null;
        await LoadRowsAsync();
        await SelectAsync(id);
    });

    private void CancelEdit() => _editing = null;

    private void ClosePanel() => _selected = null;

    private async Task Try(Func<Task> action, bool refreshOnError = false)
    {
        try { await action(); }
        catch (PortalError e)
        {
            Snackbar.Add(e.Message, e.Kind == PortalErrorKind.Conflict ? Severity.Warning : Severity.Error);
            if (refreshOnError) await RefreshAsync();
        }
    }
}
