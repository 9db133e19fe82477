/**
 * Binary operators: scalar/scalar, vector/scalar and vector/vector with full vector matching
 * (`on`/`ignoring`, `group_left`/`group_right`, set operators, `bool`, experimental `fill*`).
 * Works on one evaluation step at a time.
 */
import type { FloatHistogram } from '../../model/histogram.js';
import { LabelsBuilder, METRIC_NAME, labelsKey, type Labels } from '../../model/labels.js';
import type { BinaryOp, VectorMatching } from '../parser/ast.js';
import { histogramAdd, histogramEquals, histogramScale, histogramSub } from './histogram-ops.js';
import { trimHistogram } from './histogram-trim.js';
import { QueryError, type Sample, type Vector } from './values.js';

/** Comparison operators. */
export function isComparison(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

/** Native-histogram trim operators (`</`, `>/`). */
export function isTrimOp(op: BinaryOp): op is '</' | '>/' {
  return op === '</' || op === '>/';
}

/** Set operators. */
export function isSetOp(op: BinaryOp): boolean {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** Go's math.Pow special cases that differ from JS `**`. */
export function goPow(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && !Number.isFinite(b) && b === b) return 1;
  return Math.pow(a, b);
}

/** Applies an arithmetic or comparison operator to two floats: [value, keep]. */
export function floatBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+':
      return [l + r, true];
    case '-':
      return [l - r, true];
    case '*':
      return [l * r, true];
    case '/':
      return [l / r, true];
    case '%':
      return [l % r, true];
    case '^':
      return [goPow(l, r), true];
    case 'atan2':
      return [Math.atan2(l, r), true];
    case '==':
      return [l, l === r];
    case '!=':
      return [l, l !== r];
    case '>':
      return [l, l > r];
    case '<':
      return [l, l < r];
    case '>=':
      return [l, l >= r];
    case '<=':
      return [l, l <= r];
    default:
      throw new QueryError(`operator ${JSON.stringify(op)} not allowed for scalar operations`, 'bad_data');
  }
}

/** Sink for the info annotations binary operators raise. */
export interface BinopNotes {
  /** Called with a message without the "PromQL info: " prefix and position. */
  info(msg: string): void;
}

/** Result of one element operation: undefined means the element is dropped. */
type ElemResult = { f: number; h?: FloatHistogram; keep: boolean } | undefined;

function typeName(h: FloatHistogram | undefined): string {
  return h ? 'histogram' : 'float';
}

function incompatibleTypes(op: BinaryOp, lh: FloatHistogram | undefined, rh: FloatHistogram | undefined, notes: BinopNotes): undefined {
  notes.info(`incompatible sample types encountered for binary operator ${JSON.stringify(op)}: ${typeName(lh)} ${op} ${typeName(rh)}`);
  return undefined;
}

/** Element operation with histogram support. */
export function elemBinop(
  op: BinaryOp,
  lf: number,
  rf: number,
  lh: FloatHistogram | undefined,
  rh: FloatHistogram | undefined,
  notes: BinopNotes,
): ElemResult {
  if (!lh && !rh) {
    // Trims need a histogram on the left; a float there is a type mismatch, not an error.
    if (isTrimOp(op)) return incompatibleTypes(op, lh, rh, notes);
    const [f, keep] = floatBinop(op, lf, rf);
    return { f, keep };
  }
  const incompatible = (): undefined => incompatibleTypes(op, lh, rh, notes);
  if (lh && rh) {
    switch (op) {
      case '+': {
        const h = histogramAdd(lh, rh, notes);
        return h ? { f: 0, h, keep: true } : undefined;
      }
      case '-': {
        const h = histogramSub(lh, rh, notes);
        return h ? { f: 0, h, keep: true } : undefined;
      }
      case '==':
        return { f: 0, h: lh, keep: histogramEquals(lh, rh) };
      case '!=':
        return { f: 0, h: lh, keep: !histogramEquals(lh, rh) };
      default:
        return incompatible();
    }
  }
  if (lh && !rh) {
    if (op === '*') return { f: 0, h: histogramScale(lh, rf), keep: true };
    if (op === '/') return { f: 0, h: histogramScale(lh, 1 / rf, rf), keep: true };
    if (isTrimOp(op)) return { f: 0, h: trimHistogram(lh, op, rf), keep: true };
    return incompatible();
  }
  if (rh && !lh && op === '*') return { f: 0, h: histogramScale(rh, lf), keep: true };
  return incompatible();
}

/** True when the operator changes the meaning of the metric (its name is dropped). */
export function dropsName(op: BinaryOp, returnBool: boolean): boolean {
  // A trimmed histogram still describes the same metric, so trims keep the name like filters do.
  return returnBool || !(isComparison(op) || isSetOp(op) || isTrimOp(op));
}

/** vector op scalar (or scalar op vector when `swap`). */
export function vectorScalarBinop(op: BinaryOp, vec: Vector, scalar: number, swap: boolean, returnBool: boolean, ts: number, notes: BinopNotes): Vector {
  const out: Vector = [];
  const cmp = isComparison(op);
  const dn = dropsName(op, returnBool);
  for (const s of vec) {
    let r: ElemResult;
    if (swap) r = elemBinop(op, scalar, s.f, undefined, s.h, notes);
    else r = elemBinop(op, s.f, scalar, s.h, undefined, notes);
    if (!r) continue;
    let f = r.f;
    let h = r.h;
    if (cmp && swap && !h) f = s.f;
    if (cmp && swap && s.h) h = s.h;
    if (returnBool) {
      if (h && !cmp) continue;
      f = r.keep ? 1 : 0;
      h = undefined;
    } else if (!r.keep) continue;
    const o: Sample = { metric: s.metric, t: ts, f };
    if (h) o.h = h;
    if (dn || s.dropName) o.dropName = true;
    out.push(o);
  }
  return out;
}

/** Computes the matching signature of a label set. */
export function signatureFn(on: boolean, names: readonly string[]): (ls: Labels) => string {
  if (on) {
    const set = new Set(names);
    return (ls) => {
      let s = '';
      for (const l of ls) if (set.has(l.name)) s += l.name + '\xff' + l.value + '\xfe';
      return s;
    };
  }
  const set = new Set(names);
  set.add(METRIC_NAME);
  return (ls) => {
    let s = '';
    for (const l of ls) if (!set.has(l.name)) s += l.name + '\xff' + l.value + '\xfe';
    return s;
  };
}

/**
 * Per-expression memo kept across the steps of one binary operation: samples of the same series
 * share their `Labels` array at every step, so signatures and result label sets are computed
 * once per series (or pair of series) instead of once per step, and the result label sets stay
 * the same objects across steps (which the range-result assembly relies on to skip re-keying).
 */
export class BinopCache {
  private readonly sigs = new WeakMap<Labels, string>();
  private readonly results = new WeakMap<Labels, Labels | WeakMap<Labels, Labels>>();
  private readonly keys = new WeakMap<Labels, string>();
  private readonly noRhs = Object.freeze([]) as unknown as Labels;

  /** Signature of `ls` under `f` (one signature function per cache). */
  sig(f: (ls: Labels) => string, ls: Labels): string {
    let s = this.sigs.get(ls);
    if (s === undefined) {
      s = f(ls);
      this.sigs.set(ls, s);
    }
    return s;
  }

  /** Result labels of a matched pair (`rhs` undefined for fill values). */
  result(lhs: Labels, rhs: Labels | undefined, m: VectorMatching): Labels {
    // Without `include` labels the result depends on the left side only.
    if (m.include.length === 0 || (m.card === 'one-to-one' && m.on)) {
      let r = this.results.get(lhs);
      if (r === undefined) {
        r = resultMetric(lhs, rhs, m);
        this.results.set(lhs, r);
      }
      return r as Labels;
    }
    let byR = this.results.get(lhs) as WeakMap<Labels, Labels> | undefined;
    if (byR === undefined) {
      byR = new WeakMap();
      this.results.set(lhs, byR);
    }
    const rk = rhs ?? this.noRhs;
    let r = byR.get(rk);
    if (r === undefined) {
      r = resultMetric(lhs, rhs, m);
      byR.set(rk, r);
    }
    return r;
  }

  /** `labelsKey` of a result label set. */
  key(ls: Labels): string {
    let k = this.keys.get(ls);
    if (k === undefined) {
      k = labelsKey(ls);
      this.keys.set(ls, k);
    }
    return k;
  }
}

function matchLabels(ls: Labels, on: boolean, names: readonly string[]): Labels {
  const set = new Set(names);
  if (on) return ls.filter((l) => set.has(l.name));
  set.add(METRIC_NAME);
  return ls.filter((l) => !set.has(l.name));
}

/** Go's labels.String(): `{a="b", c="d"}` with every label (including `__name__`) inside the braces. */
export function goLabelsString(ls: Labels): string {
  return '{' + ls.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ') + '}';
}

/** Set operators `and`, `or`, `unless`. */
export function setBinop(op: BinaryOp, lhs: Vector, rhs: Vector, m: VectorMatching | null, ts: number, cache?: BinopCache): Vector {
  const sigf = signatureFn(m?.on ?? false, m?.labels ?? []);
  const sig = cache ? (ls: Labels) => cache.sig(sigf, ls) : sigf;
  const stamp = (s: Sample): Sample => (s.t === ts ? s : { ...s, t: ts });
  switch (op) {
    case 'and': {
      if (lhs.length === 0 || rhs.length === 0) return [];
      const r = new Set<string>();
      for (const s of rhs) r.add(sig(s.metric));
      return lhs.filter((s) => r.has(sig(s.metric))).map(stamp);
    }
    case 'or': {
      if (lhs.length === 0) return rhs.map(stamp);
      if (rhs.length === 0) return lhs.map(stamp);
      const l = new Set<string>();
      for (const s of lhs) l.add(sig(s.metric));
      const out = lhs.map(stamp);
      for (const s of rhs) if (!l.has(sig(s.metric))) out.push(stamp(s));
      return out;
    }
    case 'unless': {
      if (lhs.length === 0 || rhs.length === 0) return lhs.map(stamp);
      const r = new Set<string>();
      for (const s of rhs) r.add(sig(s.metric));
      return lhs.filter((s) => !r.has(sig(s.metric))).map(stamp);
    }
    default:
      throw new QueryError(`operator ${op} is not a set operator`, 'internal');
  }
}

function resultMetric(lhs: Labels, rhs: Labels | undefined, m: VectorMatching): Labels {
  if (m.card === 'one-to-one') {
    const set = new Set(m.labels);
    if (m.on) return lhs.filter((l) => set.has(l.name));
    if (m.include.length === 0) return set.size ? lhs.filter((l) => !set.has(l.name)) : lhs;
    const b = new LabelsBuilder(lhs.filter((l) => !set.has(l.name)));
    for (const n of m.include) b.set(n, rhs ? labelGet(rhs, n) : '');
    return b.labels();
  }
  if (m.include.length === 0) return lhs;
  const b = new LabelsBuilder(lhs);
  for (const n of m.include) b.set(n, rhs ? labelGet(rhs, n) : '');
  return b.labels();
}

function labelGet(ls: Labels, n: string): string {
  for (const l of ls) if (l.name === n) return l.value;
  return '';
}

/** Vector/vector arithmetic and comparison with one-to-one or many-to-one/one-to-many matching. */
export function vectorBinop(
  op: BinaryOp,
  lhsIn: Vector,
  rhsIn: Vector,
  m: VectorMatching,
  returnBool: boolean,
  ts: number,
  notes: BinopNotes,
  cache?: BinopCache,
): Vector {
  if (m.card === 'many-to-many') throw new QueryError('many-to-many only allowed for set operators', 'bad_data');
  const swapped = m.card === 'one-to-many';
  let lhs = lhsIn;
  let rhs = rhsIn;
  // As in Prometheus, fill values apply to the sides after the one-to-many swap.
  const fillL = m.fillLeft;
  const fillR = m.fillRight;
  if (swapped) [lhs, rhs] = [rhs, lhs];
  const hasFill = fillL !== undefined || fillR !== undefined;
  if ((lhs.length === 0 || rhs.length === 0) && !hasFill) return [];
  const rawSig = signatureFn(m.on, m.labels);
  const sigf = cache ? (ls: Labels) => cache.sig(rawSig, ls) : rawSig;
  const cmp = isComparison(op);
  const dn = dropsName(op, returnBool);
  const right = new Map<string, Sample>();
  for (const rs of rhs) {
    const sig = sigf(rs.metric);
    const dup = right.get(sig);
    if (dup) {
      const oneSide = swapped ? 'left' : 'right';
      const ml = goLabelsString(matchLabels(rs.metric, m.on, m.labels));
      const pair = [goLabelsString(rs.metric), goLabelsString(dup.metric)].sort();
      throw new QueryError(
        `found duplicate series for the match group ${ml} on the ${oneSide} hand-side of the operation: [${pair[0]}, ${pair[1]}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    right.set(sig, rs);
  }
  const matched = new Map<string, Set<string> | null>();
  const out: Vector = [];
  const emit = (ls: Sample, rs: Sample | undefined, lf: number, lh: FloatHistogram | undefined, rf: number, rh: FloatHistogram | undefined, sig: string, metricBase: Labels): void => {
    let a = lf;
    let b = rf;
    let ha = lh;
    let hb = rh;
    if (swapped) {
      [a, b] = [b, a];
      [ha, hb] = [hb, ha];
    }
    const metric = cache && metricBase === ls.metric ? cache.result(metricBase, rs?.metric, m) : resultMetric(metricBase, rs?.metric, m);
    const seen = matched.get(sig);
    if (m.card === 'one-to-one') {
      if (seen !== undefined) throw new QueryError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      matched.set(sig, null);
    } else {
      const key = cache ? cache.key(metric) : labelsKey(metric);
      if (seen === undefined || seen === null) matched.set(sig, new Set([key]));
      else if (seen.has(key)) throw new QueryError('multiple matches for labels: grouping labels must ensure unique matches');
      else seen.add(key);
    }
    const r = elemBinop(op, a, b, ha, hb, notes);
    if (!r) return;
    let f = r.f;
    let h = r.h;
    if (returnBool) {
      if (h && !cmp) return;
      f = r.keep ? 1 : 0;
      h = undefined;
    } else if (!r.keep) return;
    const o: Sample = { metric, t: ts, f };
    if (h) o.h = h;
    if (dn || ls.dropName) o.dropName = true;
    out.push(o);
  };
  const usedRight = hasFill ? new Set<string>() : undefined;
  for (const ls of lhs) {
    const sig = sigf(ls.metric);
    const rs = right.get(sig);
    if (!rs) {
      if (fillR !== undefined) emit(ls, undefined, ls.f, ls.h, fillR, undefined, sig + '\x00l', ls.metric);
      continue;
    }
    usedRight?.add(sig);
    emit(ls, rs, ls.f, ls.h, rs.f, rs.h, sig, ls.metric);
  }
  if (fillL !== undefined && usedRight) {
    for (const rs of rhs) {
      const sig = sigf(rs.metric);
      if (usedRight.has(sig)) continue;
      const base = m.on ? rs.metric.filter((l) => m.labels.includes(l.name)) : rs.metric.filter((l) => l.name !== METRIC_NAME && !m.labels.includes(l.name));
      const pseudo: Sample = { metric: base, t: ts, f: fillL };
      emit(pseudo, rs, fillL, undefined, rs.f, rs.h, sig + '\x00r', base);
    }
  }
  return out;
}
