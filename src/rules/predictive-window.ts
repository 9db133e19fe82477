/**
 * History windows of a predictive rule's input: every series `expr` yields, resampled on the
 * grid `end − (L−1)·step … end` in ONE read per evaluation — straight from a {@link Queryable}
 * when `expr` is a plain selector (newest sample at or before each grid point, no older than
 * the lookback delta, like an instant selector), otherwise by one PromQL range query. For each
 * series the length of the trailing run of usable points is reported; points before a missing
 * one are not used (a window never bridges a gap, a stale marker or missing history).
 */
import type { Labels } from '../model/labels.js';
import { newMatcher, type Matcher } from '../model/matchers.js';
import { isStaleNaN } from '../model/samples.js';
import type { Engine } from '../promql/engine/index.js';
import type { Matrix } from '../promql/engine/values.js';
import type { Expr } from '../promql/parser/ast.js';
import type { Queryable } from '../storage/interface.js';

/** A PromQL range query at `start, start+step, …, end` (ms) returning a matrix. */
export type RangeQueryFunc = (expr: string | Expr, start: number, end: number, step: number, signal?: AbortSignal) => Promise<Matrix>;

/** A {@link RangeQueryFunc} backed by the engine. */
export function engineRangeQueryFunc(engine: Engine, queryable: Queryable): RangeQueryFunc {
  return async (expr, start, end, step, signal) => {
    const res = await engine.rangeQuery(queryable, expr, start, end, step, signal ? { signal } : {});
    const v = res.value;
    if (v.kind === 'matrix') return v.matrix;
    if (v.kind === 'vector') return v.vector.map((s) => ({ metric: s.metric, floats: [{ t: s.t, f: s.f }], histograms: [] }));
    if (v.kind === 'scalar') return [{ metric: [], floats: [{ t: v.t, f: v.v }], histograms: [] }];
    throw new Error('predictive rule expression must yield a vector');
  };
}

/** Why a series produced no output. */
export type SkipReason = 'history' | 'gap' | 'learning' | 'budget';

/** Windows of all input series (parallel arrays). */
export interface SeriesWindows {
  /** Input labels, one per series with a usable newest point. */
  readonly labels: Labels[];
  /** `[labels.length, points]` row-major, oldest first; only the trailing `valid[i]` points of a row are meaningful. */
  readonly data: Float64Array;
  /** Length of the trailing run of usable points of each row. */
  readonly valid: Int32Array;
  /** True when the points before the run are missing history (the series is younger than the window), false for a gap. */
  readonly young: Uint8Array;
  /** Points per row. */
  readonly points: number;
  /** Series without a usable newest point (gone stale or absent at `end`). */
  readonly dropped: number;
}

/** Where a rule reads its input from. */
export interface WindowSourceDeps {
  readonly queryable?: Queryable;
  readonly queryRange?: RangeQueryFunc;
}

/** One extraction request. */
export interface WindowRequest {
  readonly end: number;
  readonly stepMs: number;
  readonly points: number;
  /** Maximum age of the sample used for a grid point (PromQL lookback delta, default 5m). */
  readonly lookbackDeltaMs?: number;
  /** Maximum series (an error beyond). */
  readonly limit: number;
  readonly signal?: AbortSignal;
}

/** Error of a rule whose input has more series than allowed. */
export class SeriesLimitError extends Error {
  override name = 'SeriesLimitError';
}

/** Matchers of `expr` when it is a plain instant selector (no offset, no `@`), else undefined. */
export function plainSelectorMatchers(expr: Expr): readonly Matcher[] | undefined {
  let e = expr;
  while (e.kind === 'ParenExpr') e = e.expr;
  if (e.kind !== 'VectorSelector') return undefined;
  if (e.offset !== 0 || e.offsetExpr || e.at !== null || e.atModifier !== null || e.anchored || e.smoothed) return undefined;
  return e.matchers;
}

class Builder {
  readonly labels: Labels[] = [];
  valid: Int32Array;
  young: Uint8Array;
  data: Float64Array;
  dropped = 0;
  constructor(
    readonly points: number,
    cap: number,
    buf?: Float64Array,
  ) {
    this.data = buf && buf.length >= cap * points ? buf : new Float64Array(cap * points);
    this.valid = new Int32Array(cap);
    this.young = new Uint8Array(cap);
  }
  /** Accepts row `labels.length` (already written) when its newest point is usable. */
  finish(labels: Labels): void {
    const L = this.points;
    const row = this.labels.length;
    const base = row * L;
    let k = L - 1;
    while (k >= 0 && Number.isFinite(this.data[base + k]!)) k--;
    const run = L - 1 - k;
    if (run === 0) {
      this.dropped++;
      return;
    }
    let young = 1;
    for (let j = 0; j <= k; j++) {
      if (Number.isFinite(this.data[base + j]!)) {
        young = 0;
        break;
      }
    }
    this.valid[row] = run;
    this.young[row] = young;
    this.labels.push(labels);
  }
  result(): SeriesWindows {
    return { labels: this.labels, data: this.data, valid: this.valid, young: this.young, points: this.points, dropped: this.dropped };
  }
}

/**
 * Reads the windows of all series of `expr` (`matchers` set when it is a plain selector).
 * `buffer` is reused when large enough.
 */
export async function readWindows(deps: WindowSourceDeps, expr: Expr, matchers: readonly Matcher[] | undefined, req: WindowRequest, buffer?: Float64Array): Promise<SeriesWindows> {
  const L = req.points;
  const step = req.stepMs;
  const start = req.end - (L - 1) * step;
  const delta = req.lookbackDeltaMs ?? 300_000;
  if (matchers && deps.queryable) {
    const querier = deps.queryable.querier(start - delta, req.end);
    try {
      const series = querier.select({ mint: start - delta, maxt: req.end, matchers, sorted: false, limit: req.limit + 1, ...(req.signal ? { signal: req.signal } : {}) });
      if (series.length > req.limit) throw new SeriesLimitError(`input has more than ${req.limit} series`);
      const b = new Builder(L, series.length, buffer);
      const d = b.data;
      for (const s of series) {
        const { t, v } = s.samples();
        const base = b.labels.length * L;
        let j = 0;
        for (let k = 0; k < L; k++) {
          const g = start + k * step;
          while (j < t.length && t[j]! <= g) j++;
          const i = j - 1;
          const x = i < 0 || g - t[i]! > delta ? NaN : v[i]!;
          d[base + k] = isStaleNaN(x) ? NaN : x;
        }
        b.finish(s.labels);
      }
      return b.result();
    } finally {
      querier.close();
    }
  }
  if (!deps.queryRange) throw new Error('predictive rule needs a range-query function (GroupDeps.queryRange) for a non-selector expression');
  const m = await deps.queryRange(expr, start, req.end, step, req.signal);
  if (m.length > req.limit) throw new SeriesLimitError(`input has ${m.length} series, more than ${req.limit}`);
  const b = new Builder(L, m.length, buffer);
  const d = b.data;
  for (const s of m) {
    const base = b.labels.length * L;
    d.fill(NaN, base, base + L);
    for (const p of s.floats) {
      const k = (p.t - start) / step;
      if (Number.isInteger(k) && k >= 0 && k < L) d[base + k] = p.f;
    }
    b.finish(s.metric);
  }
  return b.result();
}

interface CachedRow {
  readonly labels: Labels;
  readonly data: Float64Array;
  seen: number;
}

function fullKey(ls: Labels): string {
  let s = '';
  for (const l of ls) s += `${l.name}\xff${l.value}\xff`;
  return s;
}

/** Label-set equality (strings from storage are usually the same interned values). */
function sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  return true;
}

/** Above this many new series an incremental read falls back to one full read. */
const MAX_EXACT_SELECTS = 64;

/**
 * Incremental window reads for a rule evaluated repeatedly on the same grid (plain selectors
 * over a Queryable): each series' previous window is kept, shifted by the steps elapsed, and
 * only the newest points are read (one narrow select and decode; the previous newest point is
 * re-read too, for samples that arrived late). New series are read in full (one exact select
 * each, or one full read when many are new); series that vanished are dropped. Other inputs
 * (range queries, a grid change) use {@link readWindows}.
 */
export class WindowReader {
  private readonly rows = new Map<string, CachedRow>();
  /** Rows in the order storage returned them last time (fast path: same order, no key lookups). */
  private order: CachedRow[] = [];
  private prevEnd = NaN;
  private prevStep = 0;
  private prevPoints = 0;
  private gen = 0;
  private buffer: Float64Array | undefined;

  /** Cached series. */
  get size(): number {
    return this.rows.size;
  }

  /** Same contract as {@link readWindows}. */
  async read(deps: WindowSourceDeps, expr: Expr, matchers: readonly Matcher[] | undefined, req: WindowRequest): Promise<SeriesWindows> {
    const L = req.points;
    const step = req.stepMs;
    const shift = (req.end - this.prevEnd) / step;
    const incremental = matchers !== undefined && deps.queryable !== undefined && step === this.prevStep && L === this.prevPoints && Number.isInteger(shift) && shift >= 0 && shift < L;
    if (!incremental) {
      const w = await readWindows(deps, expr, matchers, req, this.buffer);
      this.buffer = w.data;
      this.rows.clear();
      if (matchers && deps.queryable) {
        // Keep every row (with its missing points) for the next incremental read.
        for (let i = 0; i < w.labels.length; i++) this.rows.set(fullKey(w.labels[i]!), { labels: w.labels[i]!, data: w.data.slice(i * L, (i + 1) * L), seen: this.gen });
        this.order = [...this.rows.values()];
        this.prevEnd = req.end;
        this.prevStep = step;
        this.prevPoints = L;
      } else this.prevEnd = NaN;
      return w;
    }
    const gen = ++this.gen;
    const delta = req.lookbackDeltaMs ?? 300_000;
    const from = this.prevEnd; // re-read the previous newest grid point too
    const firstK = L - 1 - shift;
    const q = deps.queryable!;
    const missing: Labels[] = [];
    let order: CachedRow[] = [];
    const querier = q.querier(from - delta, req.end);
    try {
      const series = querier.select({ mint: from - delta, maxt: req.end, matchers: matchers!, sorted: false, limit: req.limit + 1, ...(req.signal ? { signal: req.signal } : {}) });
      if (series.length > req.limit) throw new SeriesLimitError(`input has more than ${req.limit} series`);
      const prev = this.order;
      for (let i = 0; i < series.length; i++) {
        const s = series[i]!;
        const o = prev[i];
        const c = o && sameLabels(o.labels, s.labels) ? o : this.rows.get(fullKey(s.labels));
        if (!c) {
          missing.push(s.labels);
          continue;
        }
        order.push(c);
        if (shift > 0) c.data.copyWithin(0, shift);
        fillRow(c.data, s.samples(), firstK, L, req.end - (L - 1) * step, step, delta);
        c.seen = gen;
      }
    } finally {
      querier.close();
    }
    if (missing.length > MAX_EXACT_SELECTS) {
      this.prevEnd = NaN;
      return this.read(deps, expr, matchers, req);
    }
    if (missing.length > 0) {
      const start = req.end - (L - 1) * step;
      const full = q.querier(start - delta, req.end);
      try {
        for (const ls of missing) {
          const exact = ls.map((l) => newMatcher('=', l.name, l.value));
          const [s] = full.select({ mint: start - delta, maxt: req.end, matchers: exact, sorted: false, limit: 2 });
          if (!s) continue;
          const data = new Float64Array(L);
          fillRow(data, s.samples(), 0, L, start, step, delta);
          this.rows.set(fullKey(ls), { labels: ls, data, seen: gen });
        }
      } finally {
        full.close();
      }
    }
    if (missing.length > 0 || this.rows.size !== order.length) {
      for (const [k, c] of this.rows) if (c.seen !== gen) this.rows.delete(k);
      order = [...this.rows.values()];
    }
    this.order = order;
    this.prevEnd = req.end;
    const b = new Builder(L, order.length, this.buffer);
    this.buffer = b.data;
    for (const c of order) {
      b.data.set(c.data, b.labels.length * L);
      b.finish(c.labels);
    }
    return b.result();
  }
}

/** Writes grid points `fromK … L−1` of a row from decoded samples (NaN where none is usable). */
function fillRow(row: Float64Array, s: { readonly t: Float64Array; readonly v: Float64Array }, fromK: number, L: number, start: number, step: number, delta: number): void {
  const { t, v } = s;
  let j = 0;
  for (let k = fromK; k < L; k++) {
    const g = start + k * step;
    while (j < t.length && t[j]! <= g) j++;
    const i = j - 1;
    const x = i < 0 || g - t[i]! > delta ? NaN : v[i]!;
    row[k] = isStaleNaN(x) ? NaN : x;
  }
}
