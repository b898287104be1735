// Live training curves: one chart per metric, several runs per chart. Points come from /api/curves/series
// (already downsampled by the server) and then live from the viewers' hub. RunCharts imports this module through
// Blazor's JS isolation and calls create(); the other exports serve tests and links to a step range.
import { Chart } from './chart.js';
import { connectLive } from './live.js';
export { chooseLevel, m4, rebucket } from './levels.js';

// Every open chart set, so snapshot() and zoom() can find a chart by its metric.
const sets = new Set();
let setCount = 0;

class CurveSet {
  constructor(dotnet, runs, options) {
    this.dotnet = dotnet;
    this.runs = runs;
    this.options = Object.assign({ smoothing: 0, log: false, xAxis: 'step' }, options || {});
    this.charts = new Map();
    this.annotations = [];
    this.pending = new Map();   // metric -> live messages that came before its chart
    this.knownMetrics = new Set();
    this.syncKey = `curves-${++setCount}`;
    this.syncing = false;
    const live = connectLive(runs, msg => this.onPoints(msg));
    this.connection = live.connection;
    this.started = live.started;
  }

  onPoints(msg) {
    const chart = this.charts.get(msg.metric);
    if (chart && chart.series.size) { chart.onLive(msg); return; }
    if (!this.pending.has(msg.metric)) this.pending.set(msg.metric, []);
    this.pending.get(msg.metric).push(msg);
    if (!chart && !this.knownMetrics.has(msg.metric)) {
      this.knownMetrics.add(msg.metric);
      this.dotnet.invokeMethodAsync('MetricAppeared', msg.metric);
    }
  }

  takePending(metric) {
    const list = this.pending.get(metric) || [];
    this.pending.delete(metric);
    return list;
  }

  async fetchSeries(metric, from, to) {
    const q = new URLSearchParams();
    for (const r of this.runs) q.append('run', r.id);
    q.set('metric', metric);
    if (from !== null) q.set('from', from);
    if (to !== null) q.set('to', to);
    const response = await fetch('/api/curves/series?' + q.toString(), { credentials: 'same-origin' });
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).title || message; } catch { /* not a problem document */ }
      throw new Error(message);
    }
    return await response.json();
  }

  async mount(el, metric, config) {
    this.knownMetrics.add(metric);
    if (this.charts.has(metric)) return;
    const chart = new Chart(this, el, metric, config || {});
    this.charts.set(metric, chart);
    el.dataset.annotations = String(this.annotationsFor(metric).length);
    await this.started.catch(() => { });
    await chart.load();
  }

  annotationsFor(metric) {
    return this.annotations.filter(a => a.metric === null || a.metric === metric);
  }

  setAnnotations(list) {
    this.annotations = list || [];
    for (const c of this.charts.values()) if (c.plot) c.plot.redraw(false, false);
    document.querySelectorAll('[data-curve-metric]').forEach(el => el.dataset.annotations = String(this.annotationsFor(el.dataset.curveMetric).length));
  }

  setOptions(options) {
    Object.assign(this.options, options);
    for (const c of this.charts.values()) { c.zoom = null; c.render(); }
  }

  resetZoom() { for (const c of this.charts.values()) c.resetZoom(); }

  // The x axes are synced: a zoom on one chart zooms the others to the same range (each then fetches that
  // range of its own metric). The flag keeps their own zoom hooks from passing it on again.
  zoomOthers(from, min, max) {
    if (this.syncing) return;
    this.syncing = true;
    try {
      for (const c of this.charts.values()) if (c !== from && c.plot) c.plot.setScale('x', { min, max });
    } finally {
      this.syncing = false;
    }
  }

  // The step range a chart is zoomed to, so a review can be pinned to what the mentor is looking at.
  zoomedRange(metric) {
    const chart = this.charts.get(metric);
    return chart && chart.zoom ? [Math.floor(chart.zoom.from), Math.ceil(chart.zoom.to)] : null;
  }

  timings() {
    const out = {};
    for (const [m, c] of this.charts) out[m] = c.timings;
    return out;
  }

  dispose() {
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
    this.connection.stop();
    sets.delete(this);
  }
}

export function create(dotnet, runs, options) {
  const set = new CurveSet(dotnet, runs, options);
  sets.add(set);
  return set;
}

// What a chart holds for one run's metric (whole range), so tests can compare a live chart with a reload.
export function snapshot(metric, runId) {
  for (const set of sets) {
    const chart = set.charts.get(metric);
    const series = chart && chart.series.get(runId);
    if (series) return { level: series.level, count: series.count, steps: series.points.map(p => p.s), values: series.points.map(p => p.v) };
  }
  return null;
}

// Zooms a chart's x axis as a drag across it would (for tests and links to a step range).
export function zoom(metric, min, max) {
  for (const set of sets) {
    const chart = set.charts.get(metric);
    if (chart && chart.plot) { chart.plot.setScale('x', { min, max }); return true; }
  }
  return false;
}
