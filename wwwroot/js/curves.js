// Live training curves: one uPlot chart per metric, several runs per chart. Points come from /api/curves/series
// (already downsampled by the server) and then live from the viewers' hub (/hubs/metrics). Live points are folded
// in by the same rule the server uses (CurveLevels / M4Bucket in Features/Curves), so a live chart and a reloaded
// one show the same points.
(function () {
  'use strict';

  const MAX_POINTS = 2000;
  const TIERS = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
  const COLORS = ['#1e88e5', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00acc1', '#6d4c41', '#3949ab', '#c0ca33', '#d81b60', '#546e7a', '#00897b'];
  const STATE_COLORS = { Open: 'rgba(255, 193, 7, 0.22)', NeedsChange: 'rgba(229, 57, 53, 0.20)', Accepted: 'rgba(67, 160, 71, 0.20)' };

  // Same as CurveLevels.Choose: 0 (every point) when they fit, else the first tier whose buckets fit.
  function chooseLevel(count, from, to) {
    if (count <= MAX_POINTS) return 0;
    for (const k of TIERS) {
      const buckets = Math.floor(to / 2 ** k) - Math.floor(from / 2 ** k) + 1;
      if (buckets * 5 <= MAX_POINTS) return k;
    }
    return TIERS[TIERS.length - 1];
  }

  // Same as M4Bucket: first, last, lowest, highest (ties to the earlier step) and the first NaN, in step order.
  function m4(points) {
    let first = null, last = null, min = null, max = null, nan = null;
    for (const p of points) {
      if (p.v === null) { if (nan === null || p.s < nan.s) nan = p; continue; }
      if (first === null) { first = last = min = max = p; continue; }
      if (p.s < first.s) first = p;
      if (p.s > last.s) last = p;
      if (p.v < min.v || (p.v === min.v && p.s < min.s)) min = p;
      if (p.v > max.v || (p.v === max.v && p.s < max.s)) max = p;
    }
    const out = [];
    if (first !== null) {
      out.push(first);
      if (min.s !== first.s) out.push(min);
      if (max.s !== first.s && max.s !== min.s) out.push(max);
      if (last.s !== first.s && last.s !== min.s && last.s !== max.s) out.push(last);
    }
    if (nan !== null) out.push(nan);
    out.sort((a, b) => a.s - b.s);
    return out;
  }

  const bucketOf = (step, level) => Math.floor(step / 2 ** level);

  function rebucket(points, level) {
    const out = [];
    let group = [], current = null;
    for (const p of points) {
      const b = bucketOf(p.s, level);
      if (b !== current && group.length) { out.push(...m4(group)); group = []; }
      current = b;
      group.push(p);
    }
    if (group.length) out.push(...m4(group));
    return out;
  }

  // One run's series of one metric as the chart holds it (whole range).
  function seriesFrom(data) {
    const points = data.steps.map((s, i) => ({ s, v: data.values[i], t: data.times[i] }));
    return { level: data.level, count: data.count, minStep: data.minStep, maxStep: data.maxStep, points };
  }

  // A live message packs its points (LivePointsCodec): unpadded base64url of the count (varint), the values as
  // little-endian Float64 (NaN for a gap), then steps and Unix ms times as zigzag varints of the difference from the
  // one before. Decoded here to the shape the stored series use (null where NaN), so live and reloaded points are the
  // same. Numbers are read with arithmetic, not 32-bit bit operations, so steps and times up to 2^53 stay exact.
  function unpack(msg) {
    const text = atob(msg.packed.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const view = new DataView(bytes.buffer);
    let pos = 0;
    const varint = () => {
      let result = 0, scale = 1, b;
      do { b = bytes[pos++]; result += (b & 0x7f) * scale; scale *= 128; } while (b & 0x80);
      return result;
    };
    const deltas = n => {
      const out = new Array(n);
      let previous = 0;
      for (let i = 0; i < n; i++) {
        const z = varint();
        previous += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        out[i] = previous;
      }
      return out;
    };
    const n = varint();
    const values = new Array(n);
    for (let i = 0; i < n; i++, pos += 8) {
      const v = view.getFloat64(pos, true);
      values[i] = Number.isFinite(v) ? v : null;
    }
    const steps = deltas(n);
    const times = deltas(n);
    return { runId: msg.runId, metric: msg.metric, steps, values, times };
  }

  function appendLive(series, msg) {
    let added = false;
    for (let i = 0; i < msg.steps.length; i++) {
      const p = { s: msg.steps[i], v: msg.values[i], t: msg.times[i] };
      if (series.count > 0 && p.s <= series.maxStep) continue; // already stored (a resumed run repeats steps)
      if (series.count === 0) series.minStep = p.s;
      series.count++;
      series.maxStep = p.s;
      added = true;
      const pts = series.points;
      if (series.level === 0) { pts.push(p); continue; }
      const b = bucketOf(p.s, series.level);
      let start = pts.length;
      while (start > 0 && bucketOf(pts[start - 1].s, series.level) === b) start--;
      const merged = m4(pts.slice(start).concat([p]));
      pts.splice(start, pts.length - start, ...merged);
    }
    if (!added) return false;
    const level = chooseLevel(series.count, series.minStep, series.maxStep);
    if (level !== series.level) { series.points = rebucket(series.points, level); series.level = level; }
    return true;
  }

  // EMA with debiasing (as TensorBoard does), skipping gaps.
  function smooth(values, weight) {
    if (!weight) return values;
    let last = 0, n = 0;
    return values.map(v => {
      if (v === null || v === undefined) return v;
      last = last * weight + (1 - weight) * v;
      n++;
      return last / (1 - Math.pow(weight, n));
    });
  }

  function lastValue(series) {
    for (let i = series.points.length - 1; i >= 0; i--) {
      if (series.points[i].v !== null) return series.points[i];
    }
    return null;
  }

  // Hover shows the stored value exactly, not rounded.
  const fmt = v => (v === null || v === undefined) ? '—' : String(v);
  // Summaries beside the chart read better rounded; the hover legend keeps exact values.
  const brief = v => (v === null || v === undefined) ? '—' : String(+Number(v).toPrecision(6));

  class Chart {
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
      const series = [{ label: useTime ? 'time' : 'step', value: (u, v) => v === null || v === undefined ? '—' : (useTime ? new Date(v * 1000).toLocaleString() : String(v)) }];
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
        axes: [{}, { size: 60 }],
        cursor: { drag: { x: true, y: false, setScale: true } },
        legend: { live: true },
        hooks: {
          draw: [u => this.drawOverlays(u)],
          setScale: [(u, key) => { if (key === 'x') this.onZoom(u); }],
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
      const ctx = u.ctx;
      const { left, top, width, height } = u.bbox;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      for (const c of this.claims) {
        const y1 = u.valToPos(c.high, 'y', true), y0 = u.valToPos(c.low, 'y', true), yc = u.valToPos(c.value, 'y', true);
        if (!isFinite(y0) || !isFinite(y1)) continue;
        ctx.fillStyle = 'rgba(67, 160, 71, 0.12)';
        ctx.fillRect(left, Math.min(y0, y1), width, Math.abs(y0 - y1));
        ctx.strokeStyle = 'rgba(46, 125, 50, 0.9)';
        ctx.setLineDash([6, 4]);
        ctx.beginPath(); ctx.moveTo(left, yc); ctx.lineTo(left + width, yc); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = 'rgba(46, 125, 50, 1)';
        ctx.font = `${11 * devicePixelRatio}px sans-serif`;
        ctx.fillText(`paper ${c.claimMetric} ${c.value} ±${c.tolerance}`, left + 4, yc - 4);
      }
      for (const a of this.owner.annotationsFor(this.metric)) {
        const x0 = u.valToPos(this.stepToX(a.runId, a.fromStep), 'x', true);
        const x1 = u.valToPos(this.stepToX(a.runId, a.toStep), 'x', true);
        if (!isFinite(x0) || !isFinite(x1)) continue;
        ctx.fillStyle = STATE_COLORS[a.state] || STATE_COLORS.Open;
        ctx.fillRect(Math.min(x0, x1), top, Math.max(2, Math.abs(x1 - x0)), height);
        ctx.fillStyle = '#333';
        ctx.font = `${11 * devicePixelRatio}px sans-serif`;
        ctx.fillText(`#${a.runId}: ${a.comment.length > 40 ? a.comment.slice(0, 39) + '…' : a.comment}`, Math.min(x0, x1) + 3, top + 14 * devicePixelRatio);
      }
      ctx.restore();
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

    destroy() { if (this.plot) this.plot.destroy(); clearTimeout(this.zoomTimer); }
  }

  function escapeHtml(s) {
    return String(s ?? '').replace(/[&<>"']/g, ch => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch]));
  }

  class CurveSet {
    constructor(dotnet, runs, options) {
      this.dotnet = dotnet;
      this.runs = runs;
      this.options = Object.assign({ smoothing: 0, log: false, xAxis: 'step' }, options || {});
      this.charts = new Map();
      this.annotations = [];
      this.pending = new Map();   // metric -> live messages that came before its chart
      this.knownMetrics = new Set();
      this.connection = new signalR.HubConnectionBuilder().withUrl('/hubs/metrics').withAutomaticReconnect().build();
      this.connection.on('points', msg => this.onPoints(unpack(msg)));
      this.connection.onreconnected(() => this.watchAll());
      this.started = this.connection.start().then(() => this.watchAll());
    }

    async watchAll() {
      for (const r of this.runs) await this.connection.invoke('Watch', r.id, null);
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
      window.portalCurves.forget(this);
    }
  }

  const sets = new Set();

  window.portalCurves = {
    create: (dotnet, runs, options) => { const set = new CurveSet(dotnet, runs, options); sets.add(set); return set; },
    forget: set => sets.delete(set),
    // What a chart holds for one run's metric (whole range), so tests can compare a live chart with a reload.
    snapshot(metric, runId) {
      for (const set of sets) {
        const chart = set.charts.get(metric);
        const series = chart && chart.series.get(runId);
        if (series) return { level: series.level, count: series.count, steps: series.points.map(p => p.s), values: series.points.map(p => p.v) };
      }
      return null;
    },
    // Zooms a chart's x axis as a drag across it would (for tests and links to a step range).
    zoom(metric, min, max) {
      for (const set of sets) {
        const chart = set.charts.get(metric);
        if (chart && chart.plot) { chart.plot.setScale('x', { min, max }); return true; }
      }
      return false;
    },
    chooseLevel, m4, rebucket,
  };
})();
