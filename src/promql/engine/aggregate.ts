/**
 * Aggregation operators for one evaluation step: sum avg count min max group stddev stdvar
 * topk bottomk quantile count_values limitk limit_ratio, with `by`/`without` grouping,
 * Kahan-compensated sums and Prometheus's `__name__` handling.
 */
import { prometheusLabelsHash } from './xxhash64.js';
import type { FloatHistogram } from '../../model/histogram.js';
import { LabelsBuilder, METRIC_NAME, labelsKey, type Labels } from '../../model/labels.js';
import type { AggregateOp } from '../parser/ast.js';
import type { HistogramNotes } from './histogram-ops.js';
import { histogramMean, histogramSum, type HistogramAggNotes } from './histogram-kahan.js';
import { formatFloat, histogramString } from './format.js';
import { METRIC_IDENTITY_LABELS } from './labels.js';
import { QueryError, type Sample, type Vector } from './values.js';

/** Kahan–Neumaier summation step: returns [sum, compensation]. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** Annotation sinks (messages without prefix/position; the caller adds them). */
export interface AggregateNotes extends HistogramNotes {
  warn(msg: string): void;
  info(msg: string): void;
  /** Warning positioned at the parameter expression. */
  warnParam(msg: string): void;
  /** Warning positioned at the aggregated expression. */
  warnExpr(msg: string): void;
  /** Info positioned at the aggregated expression. */
  infoExpr(msg: string): void;
}

/** Static description of one aggregation. */
export interface AggregateSpec {
  readonly op: AggregateOp;
  readonly grouping: readonly string[];
  readonly without: boolean;
  /**
   * Optional cache of each input label set's group labels and key, kept across the steps of one
   * aggregation (samples of the same series share their `Labels` array).
   */
  readonly groupCache?: WeakMap<Labels, { labels: Labels; key: string }>;
}

interface Group {
  labels: Labels;
  dropName: boolean;
  members: Sample[];
}

/** Quantile of sorted-or-not values with linear interpolation (Prometheus semantics). */
export function quantileOf(q: number, values: number[]): number {
  if (values.length === 0 || q !== q) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // NaN sorts as the smallest value, as in Prometheus.
  const vs = values.slice().sort((a, b) => (a !== a ? (b !== b ? 0 : -1) : b !== b ? 1 : a - b));
  const n = vs.length;
  const rank = q * (n - 1);
  const lo = Math.max(0, Math.floor(rank));
  const hi = Math.min(n - 1, lo + 1);
  const w = rank - Math.floor(rank);
  return vs[lo]! * (1 - w) + vs[hi]! * w;
}

/** The grouping labels of `ls` under `spec` (`set` holds `spec.grouping`). */
export function groupLabels(spec: Pick<AggregateSpec, 'without'>, ls: Labels, set: ReadonlySet<string>): Labels {
  if (spec.without) return ls.filter((l) => !METRIC_IDENTITY_LABELS.has(l.name) && !set.has(l.name));
  return ls.filter((l) => set.has(l.name));
}

/** Groups samples in first-seen order. */
function groupBy(spec: AggregateSpec, vec: Vector): Group[] {
  const set = new Set(spec.grouping);
  const groups = new Map<string, Group>();
  const out: Group[] = [];
  const cache = spec.groupCache;
  for (const s of vec) {
    let c = cache?.get(s.metric);
    if (!c) {
      const labels = groupLabels(spec, s.metric, set);
      c = { labels, key: labelsKey(labels) };
      cache?.set(s.metric, c);
    }
    const gl = c.labels;
    const key = c.key;
    let g = groups.get(key);
    if (!g) {
      g = { labels: gl, dropName: false, members: [] };
      groups.set(key, g);
      out.push(g);
    }
    if (s.dropName) g.dropName = true;
    g.members.push(s);
  }
  return out;
}

function toInt(param: number, what: string): number {
  if (param !== param) throw new QueryError(`Parameter value is NaN`);
  if (param >= 9223372036854775807 || param < -9223372036854775808) throw new QueryError(`Scalar value ${formatFloat(param)} overflows int64`);
  void what;
  return Math.trunc(param);
}

/** Sort comparator for topk (descending, NaN last). */
function topCmp(a: Sample, b: Sample): number {
  if (a.f !== a.f) return b.f !== b.f ? 0 : 1;
  if (b.f !== b.f) return -1;
  return b.f - a.f;
}

/** Sort comparator for bottomk (ascending, NaN last). */
function bottomCmp(a: Sample, b: Sample): number {
  if (a.f !== a.f) return b.f !== b.f ? 0 : 1;
  if (b.f !== b.f) return -1;
  return a.f - b.f;
}

/**
 * Offset in [0, 1] of a series for limit_ratio: Prometheus's label-set hash (XXH64) divided by
 * the largest uint64, so that vigil samples the same series as Prometheus.
 */
export function ratioOffset(ls: Labels): number {
  return Number(prometheusLabelsHash(ls)) / 18446744073709551615;
}

function out(g: Group, ts: number, f: number, h?: FloatHistogram): Sample {
  const s: Sample = { metric: g.labels, t: ts, f };
  if (h) s.h = h;
  if (g.dropName && g.labels.some((l) => l.name === METRIC_NAME)) s.dropName = true;
  return s;
}

/**
 * Aggregates one step. `param` is the evaluated parameter (number for topk/bottomk/quantile/
 * limitk/limit_ratio, string for count_values).
 */
export function aggregateStep(spec: AggregateSpec, vec: Vector, param: number | string | undefined, ts: number, notes: AggregateNotes): Vector {
  const res: Vector = [];
  switch (spec.op) {
    case 'topk':
    case 'bottomk':
    case 'limitk': {
      const k = toInt(param as number, spec.op);
      if (k < 1) return res;
      for (const g of groupBy(spec, vec)) {
        let ms = g.members;
        if (spec.op !== 'limitk') {
          const floats = ms.filter((s) => !s.h);
          if (floats.length !== ms.length) notes.infoExpr(`ignored histogram in ${spec.op} aggregation`);
          ms = floats.sort(spec.op === 'topk' ? topCmp : bottomCmp);
        }
        for (const s of ms.slice(0, k)) res.push({ ...s, t: ts });
      }
      return res;
    }
    case 'limit_ratio': {
      let r = param as number;
      if (r !== r) throw new QueryError('Ratio value is NaN');
      if (r > 1 || r < -1) {
        const capped = r > 1 ? 1 : -1;
        notes.warnParam(`ratio value should be between -1 and 1, got ${formatFloat(r)}, capping to ${formatFloat(capped)}`);
        r = capped;
      }
      for (const s of vec) {
        const off = ratioOffset(s.metric);
        const keep = r >= 0 ? off < r : off >= 1 + r;
        if (keep) res.push({ ...s, t: ts });
      }
      return res;
    }
    case 'count_values': {
      const label = param as string;
      const counts = new Map<string, { labels: Labels; n: number }>();
      const set = new Set(spec.grouping);
      for (const s of vec) {
        const b = new LabelsBuilder(groupLabels(spec, s.metric, set));
        b.set(label, s.h ? histogramString(s.h) : formatFloat(s.f));
        const ls = b.labels();
        const key = labelsKey(ls);
        const c = counts.get(key);
        if (c) c.n++;
        else counts.set(key, { labels: ls, n: 1 });
      }
      for (const c of counts.values()) res.push({ metric: c.labels, t: ts, f: c.n });
      return res;
    }
    default:
      break;
  }
  for (const g of groupBy(spec, vec)) {
    const r = aggregateGroup(spec.op, g, param as number, ts, notes);
    if (r) res.push(r);
  }
  return res;
}


function aggregateGroup(op: AggregateOp, g: Group, param: number, ts: number, notes: AggregateNotes): Sample | undefined {
  const ms = g.members;
  let nh = 0;
  for (const s of ms) if (s.h) nh++;
  const nf = ms.length - nh;
  switch (op) {
    case 'count':
      return out(g, ts, ms.length);
    case 'group':
      return out(g, ts, 1);
    case 'sum':
    case 'avg': {
      if (nh > 0 && nf > 0) {
        notes.warnExpr('encountered a mix of histograms and floats for aggregation');
        return undefined;
      }
      if (nh > 0) {
        const hn: HistogramAggNotes = {
          mixedSchemas: () => notes.warnExpr('vector contains a mix of histograms with exponential and custom buckets schemas'),
          reconciled: () => notes.info('mismatched custom buckets were reconciled during aggregation'),
          conflictingResets: () => notes.warnExpr('conflicting counter resets during histogram aggregation'),
        };
        const hs = ms.map((s) => s.h!);
        const acc = op === 'avg' ? histogramMean(hs, hn) : histogramSum(hs, hn);
        return acc ? out(g, ts, 0, acc) : undefined;
      }
      if (op === 'sum') {
        let sum = 0;
        let c = 0;
        for (const s of ms) [sum, c] = kahanSumInc(s.f, sum, c);
        return out(g, ts, Number.isFinite(sum) ? sum + c : sum);
      }
      return out(g, ts, avgOf(ms));
    }
    case 'min':
    case 'max': {
      if (nf === 0) {
        notes.infoExpr(`ignored histogram in ${op} aggregation`);
        return undefined;
      }
      if (nh > 0) notes.infoExpr(`ignored histogram in ${op} aggregation`);
      let v = NaN;
      let first = true;
      for (const s of ms) {
        if (s.h) continue;
        if (first) {
          v = s.f;
          first = false;
        } else if (op === 'min' ? v > s.f || v !== v : v < s.f || v !== v) v = s.f;
      }
      return out(g, ts, v);
    }
    case 'stddev':
    case 'stdvar': {
      if (nf === 0) {
        notes.infoExpr(`ignored histogram in ${op} aggregation`);
        return undefined;
      }
      if (nh > 0) notes.infoExpr(`ignored histogram in ${op} aggregation`);
      let n = 0;
      let mean = 0;
      let meanC = 0;
      let m2 = 0;
      let m2C = 0;
      for (const s of ms) {
        if (s.h) continue;
        n++;
        const delta = s.f - (mean + meanC);
        [mean, meanC] = kahanSumInc(delta / n, mean, meanC);
        [m2, m2C] = kahanSumInc(delta * (s.f - (mean + meanC)), m2, m2C);
      }
      const variance = (m2 + m2C) / n;
      return out(g, ts, op === 'stdvar' ? variance : Math.sqrt(variance));
    }
    case 'quantile': {
      if (nf === 0) {
        notes.infoExpr(`ignored histogram in quantile aggregation`);
        return undefined;
      }
      if (nh > 0) notes.infoExpr(`ignored histogram in quantile aggregation`);
      const vals: number[] = [];
      for (const s of ms) if (!s.h) vals.push(s.f);
      return out(g, ts, quantileOf(param, vals));
    }
    default:
      throw new QueryError(`unsupported aggregation ${op}`, 'internal');
  }
}

/** Average with Kahan summation, switching to an incremental mean when the sum overflows. */
export function avgOf(ms: readonly Sample[]): number {
  if (ms.length === 0) return NaN;
  let sum = ms[0]!.f;
  let c = 0;
  let n = 1;
  let incremental = false;
  let mean = sum;
  for (let i = 1; i < ms.length; i++) {
    const f = ms[i]!.f;
    n++;
    if (!incremental) {
      const [ns, nc] = kahanSumInc(f, sum, c);
      if (ns !== Infinity && ns !== -Infinity) {
        sum = ns;
        c = nc;
        continue;
      }
      incremental = true;
      mean = sum / (n - 1);
      c = c / (n - 1);
    }
    if (mean === Infinity || mean === -Infinity) {
      if ((f === Infinity || f === -Infinity) && mean > 0 === f > 0) continue;
      if (f === f && f !== Infinity && f !== -Infinity) continue;
    }
    const cur = mean + c;
    [mean, c] = kahanSumInc(f / n - cur / n, mean, c);
  }
  if (incremental) return mean + c;
  return sum / n + c / n;
}
