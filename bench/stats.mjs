// Small numeric and formatting helpers shared by the load process and the report, kept dependency-free so the
// load process starts fast and measures the same way in every phase.

/** Nearest-rank percentile of an ascending array (no interpolation: every reported latency was really observed). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Latency summary in milliseconds. Sorts a copy with a typed array: ~10× faster than Array#sort on numbers. */
export function summarize(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const round = (v) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    mean: round(sorted.length ? sum / sorted.length : null),
    max: round(sorted.length ? sorted[sorted.length - 1] : null),
  };
}

/** Adds one to a counter keyed by status (or error kind) in a plain object, so it serialises as-is to JSON. */
export function countInto(counts, key) {
  counts[key] = (counts[key] ?? 0) + 1;
}

export function fmtNum(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
  if (!Number.isFinite(v)) return String(v);
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const fmtInt = (v) => fmtNum(v, 0);

export function fmtLatency(s) {
  return s && s.count ? `${fmtNum(s.p50, 1)} / ${fmtNum(s.p95, 1)} / ${fmtNum(s.p99, 1)}` : "n/a";
}

export function fmtCounts(counts) {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  return entries.length ? entries.map(([k, n]) => `${k}×${n}`).join(", ") : "none";
}

/**
 * Plain-text table with aligned columns. Rows are arrays of cells; a row that is a string is a section heading.
 * Numbers-looking cells are right-aligned so digits line up, everything else left-aligned.
 */
export function formatTable(header, rows) {
  const all = [header, ...rows.filter((r) => Array.isArray(r))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? "").length)));
  const numeric = (s) => /^[-+]?[\d,.]+( ?[%×x])?$/.test(s);
  const line = (r) =>
    r
      .map((c, i) => {
        const s = String(c ?? "");
        return numeric(s) && i > 0 ? s.padStart(widths[i]) : s.padEnd(widths[i]);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const out = [line(header), rule];
  for (const r of rows) out.push(Array.isArray(r) ? line(r) : `${r}`);
  return out.join("\n");
}

/** A row of the targets table: what was measured against what it should be, and whether it was met. */
export const target = (name, value, goal, met) => ({ name, value, goal, met });
