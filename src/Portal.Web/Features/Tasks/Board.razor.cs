using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Web.Components;
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
    [Inject] private NavigationManager Nav { get; set; } = default!;

    [Parameter] public long ProjectId { get; set; }
    /// <summary>A task to open, e.g. from an assignment notification's link.</summary>
    [SupplyParameterFromQuery(Name = "task")] public long? TaskId { get; set; }
    /// <summary>"table" for the table; the columns per status otherwise. In the URL so a link or reload keeps it.</summary>
    [SupplyParameterFromQuery(Name = "view")] public string? ViewMode { get; set; }
    /// <summary>The table's order: stage (the default), title, status, estimate or holder.</summary>
    [SupplyParameterFromQuery(Name = "sort")] public string? Sort { get; set; }

    private const int CardsPerColumn = 60;

    private static readonly (string Key, string Label)[] SortOptions =
        [("stage", "Stage"), ("title", "Title"), ("status", "Status"), ("estimate", "Estimate"), ("holder", "Holder")];

    private MudDropContainer<BoardRow>? _dropContainer;
    private IReadOnlyList<BoardRow> _cards = [];

    private bool IsTable => string.Equals(ViewMode, "table", StringComparison.OrdinalIgnoreCase);
    private string SortKey => SortOptions.Any(o => o.Key == Sort) ? Sort! : "stage";
    private IReadOnlyList<BoardRow> Cards => _cards;

    private string? ClaimBlocked => _view is null ? null : TaskRules.ClaimBlockedReason(_view.HeldByMe, _view.ClaimLimit);

    private const int PrerenderedRows = 30;

    private Actor? _actor;
    private Project? _project;
    private BoardView? _view;
    private ICollection<BoardRow> _rows = [];
    private BoardFilter _filter = new();
    private TaskDetail? _selected;
    private TaskForm? _editing;
    private readonly FormErrors _editErrors = new();
    private long? _editingId;
    private int _editingVersion;
    private IReadOnlyList<Assignable> _assignable = [];
    private string? _assignTo;
    private string? _error;

    private (long, string?, string?)? _loaded;

    private bool PanelOpen => _selected is not null || _editing is not null;

    protected override async Task OnParametersSetAsync()
    {
        try
        {
            _actor ??= await CurrentActor.GetAsync();
            // Opening a task changes only the address: the rows on screen stay as they are.
            var key = (ProjectId, ViewMode, Sort);
            if (_loaded != key || _view is null)
            {
                _project = await Projects.GetAsync(ProjectId);
                await LoadRowsAsync();
                _loaded = key;
            }
            if (TaskId is { } id && id != _selected?.Id) await SelectAsync(id);
            else if (TaskId is null && _editing is null) Deselect();
            _error = null;
        }
        catch (PortalError e) { _error = e.Message; }
    }

    private async Task LoadRowsAsync()
    {
        _view = await Tasks.GetAsync(_actor!, ProjectId, _filter);
        IEnumerable<BoardRow> rows = SortKey switch
        {
            "title" => _view.Rows.OrderBy(r => r.Title, StringComparer.CurrentCultureIgnoreCase),
            "status" => _view.Rows.OrderBy(r => r.Status),
            "estimate" => _view.Rows.OrderByDescending(r => r.EstimateHours ?? -1),
            "holder" => _view.Rows.OrderBy(r => r.AssigneeName is null).ThenBy(r => r.AssigneeName, StringComparer.CurrentCultureIgnoreCase),
            _ => _view.Rows,
        };
        _rows = rows as ICollection<BoardRow> ?? rows.ToList();
        // A column shows its first cards; the table shows them all.
        _cards = _rows.GroupBy(r => r.Status).SelectMany(g => g.Take(CardsPerColumn)).ToList();
        _dropContainer?.Refresh();
    }

    private string BoardUrl(string? view, string? sort, long? task) => Nav.GetUriWithQueryParameters($"projects/{ProjectId}/board",
        new Dictionary<string, object?> { ["view"] = view, ["sort"] = sort, ["task"] = task });

    private string ViewUrl(string view) => BoardUrl(view == "table" ? "table" : null, view == "table" ? Sort : null, _selected?.Id);

    private string TaskUrl(long taskId) => BoardUrl(ViewMode, Sort, taskId);

    private void SortBy(string sort) => Nav.NavigateTo(BoardUrl(ViewMode, sort == "stage" ? null : sort, _selected?.Id));

    /// <summary>Opens a task and puts it in the address, so the URL names what is on screen.</summary>
    private async Task OpenAsync(long taskId)
    {
        await SelectAsync(taskId);
        if (_selected?.Id == taskId) Nav.NavigateTo(TaskUrl(taskId));
    }

    private bool CanDrop(BoardRow row, string zone) =>
        Enum.TryParse<ProjectTaskStatus>(zone, out var to) && TaskRules.MoveAction(_actor!, row.Status, to, row.AssigneeId) is { } action
        && (action != TaskAction.Claim || ClaimBlocked is null);

    /// <summary>A card dropped on another column: the move is the action the rules give for it, decided again by the services.</summary>
    private async Task DroppedAsync(MudItemDropInfo<BoardRow> drop)
    {
        if (drop.Item is not { } row || !Enum.TryParse<ProjectTaskStatus>(drop.DropzoneIdentifier, out var to) || to == row.Status) return;
        if (TaskRules.MoveAction(_actor!, row.Status, to, row.AssigneeId) is { } action) await ActAsync(action, row.Id);
        else await RefreshAsync();
    }

    /// <summary>Another user changed something in this project: re-read what is on screen.</summary>
    private async Task RefreshAsync()
    {
        try
        {
            _project = await Projects.GetAsync(ProjectId);
            await LoadRowsAsync();
            if (_selected is { } shown)
            {
                var selection = _selection;
                var fresh = await Tasks.GetTaskAsync(shown.Id);
                if (selection == _selection) _selected = fresh; // not when another task was opened or the panel closed meanwhile
            }
        }
        catch (PortalError e) when (e.Kind == PortalErrorKind.NotFound) { _selected = null; }
        StateHasChanged();
    }

    private async Task FilterAsync(BoardFilter filter)
    {
        _filter = filter;
        await Try(LoadRowsAsync);
    }

    /// <summary>
    /// Counts selections, so that a task that finishes loading after the address moved on (back and forward in quick
    /// succession, or another task opened) does not reopen the panel: the latest selection wins.
    /// </summary>
    private int _selection;

    private void Deselect()
    {
        _selection++;
        _selected = null;
    }

    private async Task SelectAsync(long taskId)
    {
        _editing = null;
        var selection = ++_selection;
        await Try(async () =>
        {
            var task = await Tasks.GetTaskAsync(taskId);
            if (selection != _selection) return;
            _selected = task;
            if (_selected.ProjectId != ProjectId) { _selected = null; throw PortalError.NotFound($"There is no task {taskId} in this project."); }
            if (TaskRules.CanManage(_actor!) && _assignable.Count == 0) _assignable = await Tasks.AssignableAsync();
            _assignTo = task.AssigneeId;
        });
    }

    private Task ActAsync(TaskAction action, long taskId) => Try(async () =>
    {
        var title = _rows.FirstOrDefault(r => r.Id == taskId)?.Title ?? _selected?.Title ?? $"#{taskId}";
        await (action switch
        {
            TaskAction.Claim => Claims.ClaimAsync(_actor!, taskId),
            TaskAction.Unclaim => Claims.UnclaimAsync(_actor!, taskId),
            TaskAction.SubmitForReview => Claims.SubmitForReviewAsync(_actor!, taskId),
            _ => Claims.CompleteAsync(_actor!, taskId),
        });
        Snackbar.Add(action switch
        {
            TaskAction.Claim => $"Claimed “{title}”: it is yours.",
            TaskAction.Unclaim => $"Unclaimed “{title}”: it is open again.",
            TaskAction.SubmitForReview => $"Sent “{title}” to review.",
            _ => $"Marked “{title}” done.",
        }, Severity.Success);
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
        _editErrors.Clear();
    }

    private void StartEdit()
    {
        var t = _selected!;
        _editingId = t.Id;
        _editingVersion = t.Version;
        _editing = new TaskForm { Title = t.Title, Description = t.DescriptionMarkdown, Stage = t.Stage, Component = t.Component, EstimateHours = t.EstimateHours };
        _editErrors.Clear();
    }

    // The form's own refusals stay on the form; not allowed, gone or changed meanwhile are still a snackbar.
    private Task SaveAsync() => Try(async () =>
    {
        _editErrors.Clear();
        long id;
        try
        {
            id = _editingId ?? await Editing.CreateAsync(_actor!, ProjectId, _editing!);
            if (_editingId is not null) await Editing.UpdateAsync(_actor!, id, _editingVersion, _editing!);
        }
        catch (PortalError e) when (e.Kind == PortalErrorKind.Validation || e.Field is not null)
        {
            _editErrors.Show(e);
            return;
        }
        _editing = null;
        await LoadRowsAsync();
        await SelectAsync(id);
    });

    private void CancelEdit() => _editing = null;

    private void ClosePanel()
    {
        Deselect();
        Nav.NavigateTo(BoardUrl(ViewMode, Sort, null));
    }

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
