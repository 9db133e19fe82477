/**
 * Window extraction for predictive rules, straight from storage (no PromQL round trip): every
 * series matching the selector is resampled on the grid `end − (W−1)·step … end` (value = the
 * newest sample at or before each grid point, no older than `lookbackMs`, like an instant
 * selector), and written as one row of a float32 `[N, W]` batch. Series with a gap, a staleness
 * marker or too little history are skipped and counted — they get no output, never garbage.
 */
import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matchers.js';
import { isStaleNaN } from '../model/samples.js';
import type { Queryable } from '../storage/interface.js';

/** Options of {@link extractWindows}. */
export interface WindowOptions {
  readonly matchers: readonly Matcher[];
  /** Grid end (ms), normally the evaluation time. */
  readonly end: number;
  readonly stepMs: number;
  /** Points per window. */
  readonly window: number;
  /** Maximum age of the sample used for a grid point (default 5m, PromQL's lookback delta). */
  readonly lookbackMs?: number;
  /** Maximum number of series (default 100k); more is an error of the rule. */
  readonly limit?: number;
  /** Reuse this buffer when large enough (avoids a 10 MB allocation per evaluation). */
  readonly buffer?: Float32Array;
}

/** A batch ready for `ModelSession.run`. */
export interface WindowBatch {
  readonly labels: Labels[];
  /** `[labels.length, window]` row-major; may be longer than needed when a buffer was reused. */
  readonly data: Float32Array;
  /** Series skipped for missing history / gaps / staleness. */
  readonly skipped: number;
}

/** Extracts the windows of all series matching `o.matchers`. */
export function extractWindows(q: Queryable, o: WindowOptions): WindowBatch {
  const W = o.window;
  const lookback = o.lookbackMs ?? 300_000;
  const start = o.end - (W - 1) * o.stepMs;
  const querier = q.querier(start - lookback, o.end);
  try {
    const series = querier.select({ mint: start - lookback, maxt: o.end, matchers: o.matchers, sorted: false, limit: o.limit ?? 100_000 });
    const need = series.length * W;
    const data = o.buffer && o.buffer.length >= need ? o.buffer : new Float32Array(need);
    const labels: Labels[] = [];
    let skipped = 0;
    let row = 0;
    for (const s of series) {
      const { t, v } = s.samples();
      let j = 0;
      let ok = true;
      const base = row * W;
      for (let k = 0; k < W; k++) {
        const g = start + k * o.stepMs;
        while (j < t.length && t[j]! <= g) j++;
        const i = j - 1;
        if (i < 0 || g - t[i]! > lookback || Number.isNaN(v[i]!) || isStaleNaN(v[i]!)) {
          ok = false;
          break;
        }
        data[base + k] = v[i]!;
      }
      if (ok) {
        labels.push(s.labels);
        row++;
      } else skipped++;
    }
    return { labels, data, skipped };
  } finally {
    querier.close();
  }
}

interface CachedWindow {
  end: number;
  data: Float32Array;
  seen: number;
}

function labelsKey(ls: Labels): string {
  let s = '';
  for (const l of ls) s += `${l.name}\xff${l.value}\xff`;
  return s;
}

/**
 * Incremental window extraction for a rule evaluated repeatedly on the same grid: each series'
 * previous window is kept, shifted by the steps elapsed, and only the newest points are read
 * (one narrow select + decode); series not seen before (or after a gap in evaluations longer
 * than the window) are read in full. Series that disappear are dropped at the next call.
 */
export class WindowCache {
  private readonly cache = new Map<string, CachedWindow>();
  private gen = 0;

  /** Cached series. */
  get size(): number {
    return this.cache.size;
  }

  /** Same contract as {@link extractWindows}. */
  extract(q: Queryable, o: WindowOptions): WindowBatch {
    const W = o.window;
    const step = o.stepMs;
    const lookback = o.lookbackMs ?? 300_000;
    const gen = ++this.gen;
    // The oldest end still usable (shift ≤ W − 1 steps on the same grid).
    let prevEnd = -Infinity;
    for (const c of this.cache.values()) {
      if (c.end > prevEnd) prevEnd = c.end;
      break;
    }
    const shift = Number.isFinite(prevEnd) ? (o.end - prevEnd) / step : Infinity;
    const incremental = Number.isInteger(shift) && shift >= 0 && shift < W;
    const rows: { labels: Labels; data: Float32Array }[] = [];
    let skipped = 0;
    const missing = new Set<string>();
    if (incremental) {
      const from = prevEnd + step;
      const querier = q.querier(from - lookback, o.end);
      try {
        const series = querier.select({ mint: from - lookback, maxt: o.end, matchers: o.matchers, sorted: false, limit: o.limit ?? 100_000 });
        for (const s of series) {
          const key = labelsKey(s.labels);
          const c = this.cache.get(key);
          if (!c || c.end !== prevEnd) {
            missing.add(key);
            continue;
          }
          const { t, v } = s.samples();
          if (shift > 0) c.data.copyWithin(0, shift);
          let j = 0;
          let ok = true;
          for (let k = W - shift; k < W; k++) {
            const g = o.end - (W - 1 - k) * step;
            while (j < t.length && t[j]! <= g) j++;
            const i = j - 1;
            if (i < 0 || g - t[i]! > lookback || Number.isNaN(v[i]!) || isStaleNaN(v[i]!)) {
              ok = false;
              break;
            }
            c.data[k] = v[i]!;
          }
          if (!ok) {
            this.cache.delete(key);
            skipped++;
            continue;
          }
          c.end = o.end;
          c.seen = gen;
          rows.push({ labels: s.labels, data: c.data });
        }
      } finally {
        querier.close();
      }
    }
    if (!incremental || missing.size > 0) {
      const full = extractWindows(q, { ...o, buffer: undefined });
      full.labels.forEach((ls, r) => {
        const key = labelsKey(ls);
        if (incremental && !missing.has(key) && this.cache.get(key)?.seen === gen) return;
        const data = full.data.slice(r * W, (r + 1) * W);
        this.cache.set(key, { end: o.end, data, seen: gen });
        rows.push({ labels: ls, data });
      });
      skipped += full.skipped;
    }
    for (const [k, c] of this.cache) if (c.seen !== gen) this.cache.delete(k);
    const need = rows.length * W;
    const data = o.buffer && o.buffer.length >= need ? o.buffer : new Float32Array(need);
    rows.forEach((r, i) => data.set(r.data, i * W));
    return { labels: rows.map((r) => r.labels), data, skipped };
  }
}
