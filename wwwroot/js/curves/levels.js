// How a chart holds a series: the same downsampling rule the server uses (CurveLevels / M4Bucket in
// Features/Curves), so a live chart and a reloaded one show the same points.

export const MAX_POINTS = 2000;
const TIERS = [4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];

// Same as CurveLevels.Choose: 0 (every point) when they fit, else the first tier whose buckets fit.
export function chooseLevel(count, from, to) {
  if (count <= MAX_POINTS) return 0;
  for (const k of TIERS) {
    const buckets = Math.floor(to / 2 ** k) - Math.floor(from / 2 ** k) + 1;
    if (buckets * 5 <= MAX_POINTS) return k;
  }
  return TIERS[TIERS.length - 1];
}

// Same as M4Bucket: first, last, lowest, highest (ties to the earlier step) and the first NaN, in step order.
export function m4(points) {
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

export const bucketOf = (step, level) => Math.floor(step / 2 ** level);

export function rebucket(points, level) {
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
export function seriesFrom(data) {
  const points = data.steps.map((s, i) => ({ s, v: data.values[i], t: data.times[i] }));
  return { level: data.level, count: data.count, minStep: data.minStep, maxStep: data.maxStep, points };
}

export function appendLive(series, msg) {
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
export function smooth(values, weight) {
  if (!weight) return values;
  let last = 0, n = 0;
  return values.map(v => {
    if (v === null || v === undefined) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - Math.pow(weight, n));
  });
}

export function lastValue(series) {
  for (let i = series.points.length - 1; i >= 0; i--) {
    if (series.points[i].v !== null) return series.points[i];
  }
  return null;
}
