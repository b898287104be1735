// What is drawn over a chart's curves: the paper's claim bands and the mentors' reviews of step ranges.
// Bands are painted on uPlot's canvas; their labels are elements in uPlot's overlay (u.over, the plotting area),
// placed and clamped on every draw so that they stay whole and readable at any zoom.
import { brief } from './format.js';

const STATE_COLORS = { Open: 'rgba(255, 193, 7, 0.22)', NeedsChange: 'rgba(229, 57, 53, 0.20)', Accepted: 'rgba(67, 160, 71, 0.20)' };
const LABEL_HEIGHT = 18; // CSS px of one label line (curves.css)
const REVIEW_TEXT = 40;

export const claimText = c => `paper ${c.claimMetric} ${brief(c.value)} ±${brief(c.tolerance)}`;
const reviewText = a => `#${a.runId}: ${a.comment.length > REVIEW_TEXT ? a.comment.slice(0, REVIEW_TEXT - 1) + '…' : a.comment}`;

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

// Paints the bands on the canvas (device pixels, clipped to the plotting area).
function paintBands(u, claims, reviews) {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const c of claims) {
    const y1 = u.valToPos(c.high, 'y', true), y0 = u.valToPos(c.low, 'y', true), yc = u.valToPos(c.value, 'y', true);
    if (!isFinite(y0) || !isFinite(y1)) continue;
    ctx.fillStyle = 'rgba(67, 160, 71, 0.12)';
    ctx.fillRect(left, Math.min(y0, y1), width, Math.abs(y0 - y1));
    ctx.strokeStyle = 'rgba(46, 125, 50, 0.9)';
    ctx.setLineDash([6, 4]);
    ctx.beginPath(); ctx.moveTo(left, yc); ctx.lineTo(left + width, yc); ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const r of reviews) {
    const x0 = r.x0 * devicePixelRatio + left, x1 = r.x1 * devicePixelRatio + left;
    ctx.fillStyle = STATE_COLORS[r.a.state] || STATE_COLORS.Open;
    ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
  }
  ctx.restore();
}

// The label elements of one chart, reused from draw to draw.
function labels(u, kind, count) {
  let layer = u.over.querySelector(`.curve-labels-${kind}`);
  if (!layer) {
    layer = document.createElement('div');
    layer.className = `curve-labels curve-labels-${kind}`;
    u.over.appendChild(layer);
  }
  while (layer.children.length < count) {
    const el = document.createElement('div');
    el.className = `curve-label curve-label-${kind}`;
    el.dataset.testid = `${kind}-label`;
    layer.appendChild(el);
  }
  while (layer.children.length > count) layer.lastChild.remove();
  return Array.from(layer.children);
}

// Claim labels sit just above their claimed value at the right, kept inside the plotting area (under its top
// edge when the value is above the view, over its bottom edge when below), so the text is never cut.
function placeClaimLabels(u, claims) {
  const height = u.over.clientHeight;
  const els = labels(u, 'claim', claims.length);
  claims.forEach((c, i) => {
    const el = els[i];
    el.textContent = claimText(c);
    el.title = `${claimText(c)} (${c.dataset} ${c.split}${c.source ? ', ' + c.source : ''})`;
    const y = u.valToPos(c.value, 'y');
    const top = isFinite(y) ? clamp(y - LABEL_HEIGHT - 2, 0, Math.max(0, height - LABEL_HEIGHT)) : 0;
    el.style.top = `${top}px`;
    el.style.right = '4px';
  });
}

// Review labels start at the band's left edge or, when the band begins left of the view, at the view's left
// edge; a label wider than the space right of it moves left so it stays whole. One line per review, in order.
function placeReviewLabels(u, reviews) {
  const width = u.over.clientWidth;
  const els = labels(u, 'review', reviews.length);
  reviews.forEach((r, i) => {
    const el = els[i];
    el.textContent = reviewText(r.a);
    el.title = `#${r.a.runId} steps ${r.a.fromStep}–${r.a.toStep}: ${r.a.comment}`;
    el.dataset.state = r.a.state;
    el.style.top = `${2 + i * LABEL_HEIGHT}px`;
    el.style.maxWidth = `${Math.max(0, width - 6)}px`;
    const w = el.offsetWidth;
    el.style.left = `${clamp(Math.max(r.x0, 0) + 3, 3, Math.max(3, width - w - 3))}px`;
  });
}

// Draws the bands and places the labels; stepToX maps a run's step to the x scale.
export function drawOverlays(u, claims, annotations, stepToX) {
  const width = u.over.clientWidth;
  const reviews = [];
  for (const a of annotations) {
    const p0 = u.valToPos(stepToX(a.runId, a.fromStep), 'x'), p1 = u.valToPos(stepToX(a.runId, a.toStep), 'x');
    if (!isFinite(p0) || !isFinite(p1)) continue;
    const x0 = Math.min(p0, p1), x1 = Math.max(p0, p1);
    if (x1 < 0 || x0 > width) continue; // the reviewed range is out of view
    reviews.push({ a, x0: Math.max(x0, 0), x1: Math.min(x1, width) });
  }
  paintBands(u, claims, reviews);
  placeClaimLabels(u, claims);
  placeReviewLabels(u, reviews);
}
