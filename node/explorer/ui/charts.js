// Charts drawn by hand as inline SVG: no library, nothing fetched from elsewhere.
import { amountNumber, clock, currencyCode, day } from "./format.js";

const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Volume over time: bars for the amount (left axis, in the currency) and a line for the number
 * of transfers (right axis). `points` are { start, count, amount } with amount in minor units.
 * Scales only: amounts become floats here for drawing, never for display.
 */
export function volumeChart(points, { step, width = 720, height = 240 } = {}) {
  const m = { top: 24, right: 44, bottom: 28, left: 64 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": "Payment volume and count over time" });
  const amounts = points.map((p) => Number(BigInt(p.amount)));
  const maxAmount = niceMax(Math.max(0, ...amounts));
  // Four gridlines: a count axis in whole numbers needs a maximum divisible by four.
  const maxCount = Math.ceil(niceMax(Math.max(0, ...points.map((p) => p.count))) / 4) * 4;
  const n = Math.max(points.length, 1);
  const band = w / n;
  const g = el("g", { transform: `translate(${m.left},${m.top})` });
  svg.append(g);
  for (let i = 0; i <= 4; i++) {
    const y = h - (h * i) / 4;
    g.append(el("line", { x1: 0, x2: w, y1: y, y2: y, class: "grid" }));
    g.append(el("text", { x: -8, y: y + 4, class: "axis", "text-anchor": "end" }, amountNumber(Math.round((maxAmount * i) / 4).toString()).replace(/\.0+$/, "")));
    g.append(el("text", { x: w + 8, y: y + 4, class: "axis count" }, String(Math.round((maxCount * i) / 4))));
  }
  g.append(el("text", { x: -8, y: -12, class: "axis", "text-anchor": "end" }, currencyCode()));
  g.append(el("text", { x: w + 8, y: -12, class: "axis count" }, "count"));
  const label = step >= 86400 ? (p) => day(p.start) : (p) => clock(p.start);
  const every = Math.max(1, Math.ceil(n / 8));
  points.forEach((p, i) => {
    const bh = maxAmount > 0 ? (h * amounts[i]) / maxAmount : 0;
    const bar = el("rect", { x: i * band + band * 0.15, y: h - bh, width: Math.max(1, band * 0.7), height: bh, class: "bar" });
    bar.append(el("title", {}, `${label(p)}: ${amountNumber(p.amount)} ${currencyCode()} in ${p.count} transfers`));
    g.append(bar);
    if (i % every === 0) g.append(el("text", { x: i * band + band / 2, y: h + 18, class: "axis", "text-anchor": "middle" }, label(p)));
  });
  const path = points
    .map((p, i) => `${i === 0 ? "M" : "L"}${(i * band + band / 2).toFixed(1)},${(h - (maxCount > 0 ? (h * p.count) / maxCount : 0)).toFixed(1)}`)
    .join(" ");
  if (points.length > 0) g.append(el("path", { d: path, class: "line" }));
  points.forEach((p, i) => {
    if (p.count > 0) g.append(el("circle", { cx: i * band + band / 2, cy: h - (h * p.count) / maxCount, r: 3, class: "dot" }));
  });
  return svg;
}

/** A heat colour for a share in [0, 1] (light to deep teal). */
export function heat(share) {
  const s = Math.max(0, Math.min(1, share));
  const l = 96 - s * 58;
  return `hsl(184 62% ${l}%)`;
}
