// Charts as inline SVG (no library, nothing loaded from elsewhere): bars with their values as text, and a title and
// description so a screen reader hears what the chart says.
import { h, s } from "./dom.js";

/**
 * A bar chart. series: [{ label, value, note? }]. Returns a <figure> with an <svg role="img">.
 * `name` becomes data-chart, so tests and styles can find it.
 */
export function barChart({ name, title, series, unit = "", max, width = 560, height = 180 }) {
  const top = max ?? Math.max(1, ...series.map((d) => d.value));
  const pad = { l: 36, r: 8, t: 10, b: 34 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const slot = series.length ? w / series.length : w;
  const bar = Math.max(2, Math.min(48, slot * 0.7));
  const desc = series.map((d) => `${d.label}: ${d.value}${unit}`).join("; ") || "no data yet";
  const svg = s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": `${name}-t ${name}-d`, class: "chart", "data-chart": name },
    s("title", { id: `${name}-t` }, title),
    s("desc", { id: `${name}-d` }, desc),
    s("line", { x1: pad.l, y1: pad.t + hgt, x2: pad.l + w, y2: pad.t + hgt, class: "axis" }),
    s("text", { x: pad.l - 4, y: pad.t + 8, class: "tick", "text-anchor": "end" }, `${round(top)}${unit}`),
    s("text", { x: pad.l - 4, y: pad.t + hgt, class: "tick", "text-anchor": "end" }, "0"),
    ...series.map((d, i) => {
      const bh = top > 0 ? (d.value / top) * hgt : 0;
      const x = pad.l + i * slot + (slot - bar) / 2;
      return s(
        "g",
        {},
        s("rect", { x, y: pad.t + hgt - bh, width: bar, height: Math.max(bh, d.value > 0 ? 1 : 0), class: "bar" }, s("title", {}, `${d.label}: ${d.value}${unit}${d.note ? ` (${d.note})` : ""}`)),
        series.length <= 24 ? s("text", { x: x + bar / 2, y: height - pad.b + 14, class: "tick", "text-anchor": "middle" }, d.label) : null,
      );
    }),
  );
  return h("figure", { class: "chart-box" }, svg, h("figcaption", {}, title));
}

const round = (x) => (Number.isInteger(x) ? x : Number(x).toFixed(1));
