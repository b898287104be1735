// One chart: one metric, several runs, drawn with uPlot (loaded as a library by the page). It holds each run's
// whole-range series, folds live points in, and fetches a zoomed range at full resolution.
import { seriesFrom, appendLive, smooth, lastValue } from './levels.js';
import { fmt, brief, escapeHtml, wallTime } from './format.js';
import { drawOverlays } from './overlays.js';

const COLORS = ['#1e88e5', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00acc1', '#6d4c41', '#3949ab', '#c0ca33', '#d81b60', '#546e7a', '#00897b'];

export class Chart {
  constructor(owner, el, metric, config) {
    this.owner = owner;
    this.el = el;
    this.metric = metric;
    this.claims = config.claims || [];
    this.series = new Map();   // runId -> whole-range series
    this.zoom = null;          // { from, to, byRun: Map } while zoomed in
    this.plot = null;
    this.timings = {};
    this.el.dataset.curveMetric = metric;
    this.el.innerHTML = '<div class="curve-plot"></div><div class="curve-side" data-testid="curve-gap"></div><div class="curve-error" data-testid="curve-error"></div>';
    this.plotEl = this.el.querySelector('.curve-plot');
    this.sideEl = this.el.querySelector('.curve-side');
    this.errorEl = this.el.querySelector('.curve-error');
    // The grid sets a chart's width (two columns on wide screens); the plot follows when it changes.
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.plotEl);
  }

  async load() {
    const t0 = performance.now();
    try {
      const data = await this.owner.fetchSeries(this.metric, null, null);
      this.timings.fetchMs = performance.now() - t0;
      for (const d of data) this.series.set(d.runId, seriesFrom(d));
      for (const pending of this.owner.takePending(this.metric)) this.onLive(pending, false);
      this.errorEl.textContent = '';
    } catch (e) {
      this.errorEl.textContent = 'Could not load ' + this.metric + ': ' + e.message;
    }
    this.render();
  }

  onLive(msg, redraw = true) {
    const s = this.series.get(msg.runId);
    if (!s) return;
    if (appendLive(s, msg) && redraw) this.render();
  }

  viewSeries(runId) {
    return this.zoom ? this.zoom.byRun.get(runId) : this.series.get(runId);
  }

  buildData() {
    const opts = this.owner.options;
    const useTime = opts.xAxis === 'time';
    const runs = this.owner.runs;
    const xs = new Set();
    const perRun = runs.map(r => {
      const s = this.viewSeries(r.id);
      const map = new Map();
      if (s) for (const p of s.points) {
        const x = useTime ? p.t / 1000 : p.s;
        xs.add(x);
        let v = p.v;
        if (opts.log && v !== null && v <= 0) v = undefined; // not drawable on a log scale
        map.set(x, v);
      }
      return map;
    });
    const x = Array.from(xs).sort((a, b) => a - b);
    const data = [x];
    perRun.forEach(map => {
      const raw = x.map(xv => map.has(xv) ? map.get(xv) : undefined);
      data.push(smooth(raw, opts.smoothing));
      if (opts.smoothing) data.push(raw);
    });
    return data;
  }

  render() {
    const t0 = performance.now();
    const opts = this.owner.options;
    const data = this.buildData();
    const key = JSON.stringify([opts.xAxis, opts.log, !!opts.smoothing, this.owner.runs.map(r => r.id)]);
    if (!this.plot || this.plotKey !== key) {
      if (this.plot) this.plot.destroy();
      this.plot = new uPlot(this.makeOptions(), data, this.plotEl);
      this.plotKey = key;
    } else {
      this.ignoreScale = true;
      this.plot.setData(data, !this.zoom);
      this.ignoreScale = false;
    }
    this.renderStart = t0;
    this.renderSide();
    let points = 0, last = null;
    for (const s of this.series.values()) { points += s.points.length; last = Math.max(last ?? -Infinity, s.maxStep); }
    this.el.dataset.points = String(points);
    this.el.dataset.lastStep = last === null ? '' : String(last);
    if (this.timings.fetchMs !== undefined) this.el.dataset.fetchMs = this.timings.fetchMs.toFixed(1);
  }

  makeOptions() {
    const opts = this.owner.options;
    const useTime = opts.xAxis === 'time';
    const series = [{ label: useTime ? 'time' : 'step', value: (u, v) => v === null || v === undefined ? '—' : (useTime ? wallTime(v) : String(Math.round(v))) }];
    this.owner.runs.forEach((r, i) => {
      const color = COLORS[i % COLORS.length];
      series.push({ label: r.label + (opts.smoothing ? ' (smoothed)' : ''), stroke: color, width: 1.5, spanGaps: false, value: (u, v) => fmt(v) });
      if (opts.smoothing) series.push({ label: r.label, stroke: color + '55', width: 1, spanGaps: false, value: (u, v) => fmt(v) });
    });
    const width = Math.max(300, this.plotEl.clientWidth || this.el.clientWidth || 600);
    return {
      width, height: 260,
      series,
      scales: { x: { time: useTime }, y: opts.log ? { distr: 3 } : { range: (u, min, max) => this.yRange(min, max) } },
      // Wall-time ticks ("10:42:30", a date under the first of a day) need more room than steps do.
      axes: [{ space: useTime ? 110 : 60 }, { size: 60 }],
      // Hovering one chart shows the same x on every chart of the set (uPlot's cursor sync).
      cursor: { drag: { x: true, y: false, setScale: true }, sync: { key: this.owner.syncKey, setSeries: false } },
      legend: { live: true },
      hooks: {
        draw: [u => this.drawOverlays(u)],
        setScale: [(u, key) => { if (key === 'x') { this.showRange(u); this.onZoom(u); } }],
      },
    };
  }

  // Keeps the paper's band in view, however far below it the curve still is.
  yRange(min, max) {
    for (const c of this.claims) {
      min = min === null ? c.low : Math.min(min, c.low);
      max = max === null ? c.high : Math.max(max, c.high);
    }
    if (min === null || max === null) return [0, 1];
    return uPlot.rangeNum(min, max, 0.1, true);
  }

  drawOverlays(u) {
    this.drawOverlaysOn(u);
    // uPlot draws in a microtask after setData; this hook runs once the canvas is done.
    if (this.renderStart !== null && this.renderStart !== undefined) {
      this.timings.drawMs = performance.now() - this.renderStart;
      this.renderStart = null;
      this.el.dataset.drawMs = this.timings.drawMs.toFixed(1);
      this.el.dataset.ready = 'true';
    }
  }

  drawOverlaysOn(u) {
    drawOverlays(u, this.claims, this.owner.annotationsFor(this.metric), (runId, step) => this.stepToX(runId, step));
  }

  stepToX(runId, step) {
    if (this.owner.options.xAxis !== 'time') return step;
    const s = this.series.get(runId);
    if (!s || !s.points.length) return NaN;
    let lo = 0, hi = s.points.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (s.points[mid].s < step) lo = mid + 1; else hi = mid; }
    return s.points[lo].t / 1000;
  }

  xToStep(x) {
    if (this.owner.options.xAxis !== 'time') return Math.round(x);
    // Nearest stored step at that wall time, over all runs.
    let best = null;
    for (const s of this.series.values()) for (const p of s.points) {
      if (best === null || Math.abs(p.t / 1000 - x) < Math.abs(best.t / 1000 - x)) best = p;
    }
    return best ? best.s : 0;
  }

  onZoom(u) {
    if (this.ignoreScale) return;
    const min = u.scales.x.min, max = u.scales.x.max;
    const data = u.data[0];
    if (!data.length) return;
    const whole = this.zoom === null
      ? (min <= data[0] && max >= data[data.length - 1])
      : false;
    if (whole) return;
    // A zoom the mentor made on this chart: every chart of the set follows it.
    this.owner.zoomOthers(this, min, max);
    clearTimeout(this.zoomTimer);
    this.zoomTimer = setTimeout(() => this.loadZoom(this.xToStep(min), this.xToStep(max)), 120);
  }

  async loadZoom(from, to) {
    try {
      const data = await this.owner.fetchSeries(this.metric, Math.floor(from), Math.ceil(to));
      const byRun = new Map();
      for (const d of data) byRun.set(d.runId, seriesFrom(d));
      this.zoom = { from, to, byRun };
      this.ignoreScale = true;
      this.plot.setData(this.buildData(), false);
      this.ignoreScale = false;
      this.el.dataset.zoomLevel = String(Math.max(...data.map(d => d.level)));
    } catch (e) {
      this.errorEl.textContent = 'Could not load the zoomed range: ' + e.message;
    }
  }

  // The x range shown, for tests and for the charts that follow this one.
  showRange(u) {
    const { min, max } = u.scales.x;
    if (min !== null && min !== undefined) this.el.dataset.xMin = String(min);
    if (max !== null && max !== undefined) this.el.dataset.xMax = String(max);
  }

  resize() {
    if (!this.plot) return;
    const width = Math.max(300, this.plotEl.clientWidth || 0);
    if (Math.abs(width - this.plot.width) > 1) this.plot.setSize({ width, height: this.plot.height });
  }

  resetZoom() {
    this.zoom = null;
    if (this.plot) { this.ignoreScale = true; this.plot.setData(this.buildData(), true); this.ignoreScale = false; }
  }

  renderSide() {
    if (!this.claims.length) { this.sideEl.textContent = ''; return; }
    const lines = [];
    for (const c of this.claims) {
      lines.push(`<div class="curve-claim"><b>Paper ${escapeHtml(c.claimMetric)}</b>: ${brief(c.value)} (${escapeHtml(c.dataset)} ${escapeHtml(c.split)}), band ${brief(c.low)}–${brief(c.high)}</div>`);
      this.owner.runs.forEach(r => {
        const s = this.series.get(r.id);
        const lv = s ? lastValue(s) : null;
        if (!lv) { lines.push(`<div>${escapeHtml(r.label)}: no value yet</div>`); return; }
        const gap = lv.v - c.value;
        const within = lv.v >= c.low - 1e-9 && lv.v <= c.high + 1e-9;
        const splitNote = r.split && c.split && r.split.toLowerCase() !== c.split.toLowerCase() ? ` <i>(run on ${escapeHtml(r.split)})</i>` : '';
        lines.push(`<div class="${within ? 'curve-within' : 'curve-outside'}" data-run="${r.id}">${escapeHtml(r.label)}: ${brief(lv.v)} at step ${lv.s}, gap ${gap >= 0 ? '+' : ''}${+gap.toFixed(4)} ${within ? 'within' : 'outside'} ±${c.tolerance}${splitNote}</div>`);
      });
    }
    this.sideEl.innerHTML = lines.join('');
  }

  destroy() {
    if (this.resizer) this.resizer.disconnect();
    if (this.plot) this.plot.destroy();
    clearTimeout(this.zoomTimer);
  }
}
