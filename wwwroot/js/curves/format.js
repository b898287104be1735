// Number and text formatting shared by the charts and their summaries.

// Hover values: five significant digits, exponent notation for very large or small magnitudes, so the legend
// reads 0.31416 rather than 0.3141592653589793 (the exact value is in the series API and the table of runs).
export function fmt(v) {
  if (v === null || v === undefined) return '—';
  if (v === 0 || !isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(3);
  return String(+v.toPrecision(5));
}

// Summaries beside the chart: six significant digits.
export const brief = v => (v === null || v === undefined) ? '—' : String(+Number(v).toPrecision(6));

// Wall time on the hover legend: the time of day, with the date only when it is not today.
export function wallTime(seconds) {
  const d = new Date(seconds * 1000);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, ch => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch]));
}
