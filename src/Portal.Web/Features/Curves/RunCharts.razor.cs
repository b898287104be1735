using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;
using Portal.Web.Components;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Curves;

/// <summary>
/// Live charts of one or more runs: one chart per metric, the paper's claim band, zoom and smoothing, and the
/// mentors' reviews pinned to step ranges. The drawing and the live points live in the ES modules under
/// wwwroot/js/curves (imported through JS isolation, <see cref="ModulePath"/>); this component owns the layout,
/// the options and the reviews.
/// </summary>
public sealed partial class RunCharts
{
    [Inject] private CurveService Curves { get; set; } = default!;
    [Inject] private RunAnnotations Annotations { get; set; } = default!;
    [Inject] private CurrentActor CurrentActor { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The runs to draw, all of one project.</summary>
    [Parameter, EditorRequired] public IReadOnlyList<long> RunIds { get; set; } = [];

    /// <summary>The project the runs belong to (taken from the first run when not given).</summary>
    [Parameter] public long? ProjectId { get; set; }

    /// <summary>A run may log thousands of metric names; a page draws this many charts and offers the rest by name.</summary>
    public const int MaxCharts = 24;

    /// <summary>The chart module's entry point, relative to the page's base.</summary>
    public const string ModulePath = "./js/curves/curves.js";

    private ChartSet? _set;
    private readonly List<string> _picked = [];

    private IEnumerable<MetricChart> Shown => _set is null ? [] :
        _set.Metrics.Take(MaxCharts).Concat(_picked.Select(name => _set.Metrics.Skip(MaxCharts).FirstOrDefault(m => m.Name == name)).OfType<MetricChart>());

    private Task<IEnumerable<string>> SearchHiddenAsync(string? text, CancellationToken cancellationToken)
    {
        var shown = Shown.Select(m => m.Name).ToHashSet();
        var hidden = (_set?.Metrics ?? []).Select(m => m.Name).Where(n => !shown.Contains(n));
        if (!string.IsNullOrWhiteSpace(text)) hidden = hidden.Where(n => n.Contains(text, StringComparison.OrdinalIgnoreCase));
        return Task.FromResult(hidden.Take(50));
    }

    private void ShowMetric(string? name)
    {
        if (name is not null && !_picked.Contains(name)) _picked.Add(name);
    }
    private string? _error;
    private IReadOnlyList<AnnotationView> _annotations = [];
    private bool _canReview;
    private readonly Dictionary<string, ElementReference> _hosts = [];
    private readonly HashSet<string> _mounted = [];
    private IJSObjectReference? _module;
    private IJSObjectReference? _js;
    private DotNetObjectReference<RunCharts>? _self;
    private string _loadedKey = "";
    private double _smoothing;
    private bool _log;
    private string _xAxis = "step";
    private readonly AnnotationForm _form = new();

    private sealed class AnnotationForm
    {
        public long RunId { get; set; }
        public string? Metric { get; set; }
        public long FromStep { get; set; }
        public long ToStep { get; set; }
        public string? Comment { get; set; }
    }

    protected override async Task OnParametersSetAsync()
    {
        var key = $"{ProjectId}:{string.Join(",", RunIds)}";
        if (key == _loadedKey) return;
        _loadedKey = key;
        await DisposeChartsAsync();
        _picked.Clear();
        try
        {
            _set = await Curves.GetChartSetAsync(ProjectId, RunIds);
            _annotations = await Annotations.ListAsync(RunIds);
            var actor = await CurrentActor.GetAsync();
            _canReview = actor.IsMentor || actor.IsLead;
            _form.RunId = RunIds.FirstOrDefault();
            _form.Metric = _set.Metrics.FirstOrDefault()?.Name;
            _error = null;
        }
        catch (PortalError e) { _error = e.Message; _set = null; }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (_set is null) return;
        if (_js is null)
        {
            _self ??= DotNetObjectReference.Create(this);
            _module ??= await JS.InvokeAsync<IJSObjectReference>("import", ModulePath);
            _js = await _module.InvokeAsync<IJSObjectReference>("create", _self,
                _set.Runs.Select(r => new { id = r.Id, label = r.Label, split = r.Split }).ToArray(),
                new { smoothing = _smoothing, log = _log, xAxis = _xAxis });
            await PushAnnotationsAsync();
        }
        foreach (var chart in _set.Metrics)
        {
            if (_mounted.Contains(chart.Name) || !_hosts.TryGetValue(chart.Name, out var host)) continue;
            _mounted.Add(chart.Name);
            await _js.InvokeVoidAsync("mount", host, chart.Name, new { claims = chart.Claims });
        }
    }

    /// <summary>Called by the chart module when a run logs a metric the page has no chart for yet.</summary>
    [JSInvokable]
    public async Task MetricAppeared(string metric)
    {
        if (_set is null || _set.Metrics.Any(m => m.Name == metric)) return;
        var chart = await Curves.GetMetricChartAsync(_set.ProjectId, metric);
        _set = _set with { Metrics = [.. _set.Metrics, chart] };
        StateHasChanged();
    }

    private async Task ReloadAnnotationsAsync()
    {
        _annotations = await Annotations.ListAsync(RunIds);
        await PushAnnotationsAsync();
        StateHasChanged();
    }

    private async Task PushAnnotationsAsync()
    {
        if (_js is null) return;
        var list = _annotations.Select(a => new
        {
            a.Id, a.RunId, a.Metric, a.FromStep, a.ToStep, a.Comment, State = a.State.ToString(),
        }).ToArray();
        // One argument: a bare array would be spread over the params array by covariance.
        await _js.InvokeVoidAsync("setAnnotations", [list]);
    }

    private async Task AddAnnotationAsync()
    {
        if (await Snackbar.TryAsync(async () => await Annotations.AddAsync(await CurrentActor.GetAsync(), _form.RunId, _form.Metric, _form.FromStep, _form.ToStep, _form.Comment), "Review added."))
            _form.Comment = "";
    }

    private Task SetStateAsync(AnnotationView annotation, AnnotationState state) =>
        Snackbar.TryAsync(async () => await Annotations.SetStateAsync(await CurrentActor.GetAsync(), annotation.Id, state));

    private async Task UseZoomedRangeAsync()
    {
        if (_js is null || _form.Metric is null) { Snackbar.Add("Pick the metric whose chart you zoomed.", Severity.Info); return; }
        var range = await _js.InvokeAsync<long[]?>("zoomedRange", _form.Metric);
        if (range is not { Length: 2 }) { Snackbar.Add($"Drag across the {_form.Metric} chart to zoom to a step range first.", Severity.Info); return; }
        (_form.FromStep, _form.ToStep) = (range[0], range[1]);
    }

    private async Task SetSmoothingAsync(double value) { _smoothing = value; await SetOptionsAsync(); }
    private async Task SetLogAsync(bool value) { _log = value; await SetOptionsAsync(); }
    private async Task SetXAxisAsync(string value) { _xAxis = value; await SetOptionsAsync(); }

    private async Task SetOptionsAsync()
    {
        if (_js is not null) await _js.InvokeVoidAsync("setOptions", new { smoothing = _smoothing, log = _log, xAxis = _xAxis });
    }

    private async Task ResetZoomAsync()
    {
        if (_js is not null) await _js.InvokeVoidAsync("resetZoom");
    }

    private async Task DisposeChartsAsync()
    {
        _mounted.Clear();
        _hosts.Clear();
        if (_js is null) return;
        try
        {
            await _js.InvokeVoidAsync("dispose");
            await _js.DisposeAsync();
        }
        catch (JSDisconnectedException) { /* the browser is gone; nothing left to clean up there */ }
        _js = null;
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeChartsAsync();
        if (_module is not null)
        {
            try { await _module.DisposeAsync(); }
            catch (JSDisconnectedException) { /* the browser is gone */ }
        }
        _self?.Dispose();
    }
}
