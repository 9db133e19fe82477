/**
 * `sum`/`avg`/`count`/`min`/`max`/`group` over a range function with a column fast path
 * (`sum by (job) (rate(x[5m]))`, the most common rule shape), evaluated without building the
 * inner per-step vectors: every series is grouped once, and its per-step results are folded
 * straight into per-group, per-step accumulators. The arithmetic and the member order (series
 * order) are those of `aggregate.ts`, and each step's groups come out in the order their first
 * member appears at that step, as the per-step path orders them.
 */
import { METRIC_NAME, labelsKey, type Labels } from '../../model/labels.js';
import type { AggregateOp } from '../parser/ast.js';
import { groupLabels } from './aggregate.js';
import type { Sample, Vector } from './values.js';

/** Aggregations this path handles (no parameter, floats only). */
export const FUSABLE_OPS: ReadonlySet<AggregateOp> = new Set<AggregateOp>(['sum', 'avg', 'count', 'min', 'max', 'group']);

/** Per-group state: one slot per step. */
interface GroupAcc {
  readonly labels: Labels;
  readonly hasName: boolean;
  readonly n: Float64Array;
  readonly v: Float64Array;
  readonly c: Float64Array;
  /** avg only: incremental mean and whether it switched to it. */
  readonly mean?: Float64Array;
  readonly inc?: Uint8Array;
}

/** Folds (series, step, value) triples into groups; see the module comment. */
export class FusedAggregator {
  private readonly groups: GroupAcc[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly order: number[][];
  private readonly set: ReadonlySet<string>;
  /** The grouping label when `by` names exactly one. */
  private readonly only: string | undefined;

  /**
   * @param dropName whether the inner results drop `__name__` (then so does a group keeping it)
   */
  constructor(
    private readonly op: AggregateOp,
    grouping: readonly string[],
    private readonly without: boolean,
    private readonly steps: readonly number[],
    private readonly dropName: boolean,
  ) {
    this.set = new Set(grouping);
    this.only = !without && this.set.size === 1 ? grouping[0] : undefined;
    this.order = steps.map(() => []);
  }

  /**
   * Index of the group of a series with labels `ls`, creating the group when new. For `by` the
   * key is built straight from `ls`, so only a new group allocates its label set.
   */
  groupOf(ls: Labels): number {
    let key: string;
    let gl: Labels | undefined;
    if (this.without) {
      gl = groupLabels({ without: true }, ls, this.set);
      key = labelsKey(gl);
    } else if (this.only !== undefined) {
      // One grouping label: its value is the key ('' when absent; present values are never '').
      key = '';
      for (const l of ls) if (l.name === this.only) key = l.value;
    } else {
      key = '';
      for (const l of ls) if (this.set.has(l.name)) key += l.name + '\xff' + l.value + '\xfe';
    }
    let gi = this.byKey.get(key);
    if (gi === undefined) {
      gi = this.groups.length;
      gl ??= groupLabels({ without: false }, ls, this.set);
      const n = this.steps.length;
      const avg = this.op === 'avg';
      this.groups.push({
        labels: gl,
        hasName: gl.some((l) => l.name === METRIC_NAME),
        n: new Float64Array(n),
        v: new Float64Array(n),
        c: new Float64Array(n),
        ...(avg ? { mean: new Float64Array(n), inc: new Uint8Array(n) } : {}),
      });
      this.byKey.set(key, gi);
    }
    return gi;
  }

  /** Folds value `f` at step `i` into group `gi`: what the group's emitter does, without a closure. */
  add(gi: number, i: number, f: number): void {
    const g = this.groups[gi]!;
    switch (this.op) {
      case 'sum': {
        if (g.n[i]!++ === 0) this.order[i]!.push(gi);
        const sum = g.v[i]!;
        const t = sum + f;
        if (!Number.isFinite(t)) g.c[i] = 0;
        else g.c[i]! += Math.abs(sum) >= Math.abs(f) ? sum - t + f : f - t + sum;
        g.v[i] = t;
        return;
      }
      case 'avg':
        return addAvg(g, i, f, this.order, gi);
      case 'min':
      case 'max': {
        if (g.n[i]!++ === 0) {
          this.order[i]!.push(gi);
          g.v[i] = f;
          return;
        }
        const v = g.v[i]!;
        if (this.op === 'min' ? v > f || v !== v : v < f || v !== v) g.v[i] = f;
        return;
      }
      default:
        if (g.n[i]!++ === 0) this.order[i]!.push(gi);
    }
  }

  /** The emitter for a series with labels `ls` (its group is resolved once). */
  emitter(ls: Labels): (i: number, f: number) => void {
    const gi = this.groupOf(ls);
    const g = this.groups[gi]!;
    const order = this.order;
    const id = gi;
    switch (this.op) {
      case 'sum':
        return (i, f) => {
          if (g.n[i]!++ === 0) order[i]!.push(id);
          const sum = g.v[i]!;
          const t = sum + f;
          if (!Number.isFinite(t)) g.c[i] = 0;
          else g.c[i]! += Math.abs(sum) >= Math.abs(f) ? sum - t + f : f - t + sum;
          g.v[i] = t;
        };
      case 'avg':
        return (i, f) => addAvg(g, i, f, order, id);
      case 'min':
      case 'max': {
        const min = this.op === 'min';
        return (i, f) => {
          if (g.n[i]!++ === 0) {
            order[i]!.push(id);
            g.v[i] = f;
            return;
          }
          const v = g.v[i]!;
          if (min ? v > f || v !== v : v < f || v !== v) g.v[i] = f;
        };
      }
      default:
        return (i) => {
          if (g.n[i]!++ === 0) order[i]!.push(id);
        };
    }
  }

  /** The aggregated vector of every step. */
  result(): Vector[] {
    return this.steps.map((ts, i) => {
      const out: Vector = [];
      for (const gi of this.order[i]!) {
        const g = this.groups[gi]!;
        const s: Sample = { metric: g.labels, t: ts, f: this.value(g, i) };
        if (this.dropName && g.hasName) s.dropName = true;
        out.push(s);
      }
      return out;
    });
  }

  private value(g: GroupAcc, i: number): number {
    const n = g.n[i]!;
    switch (this.op) {
      case 'sum': {
        const sum = g.v[i]!;
        return Number.isFinite(sum) ? sum + g.c[i]! : sum;
      }
      case 'avg':
        return g.inc![i] ? g.mean![i]! + g.c[i]! : g.v[i]! / n + g.c[i]! / n;
      case 'count':
        return n;
      case 'group':
        return 1;
      default:
        return g.v[i]!;
    }
  }
}

/** Kahan–Neumaier step of `aggregate.ts` (a non-finite sum resets the compensation). */
function kahan(inc: number, sum: number, c: number, out: Float64Array, at: number, cOut: Float64Array): void {
  const t = sum + inc;
  out[at] = t;
  if (!Number.isFinite(t)) cOut[at] = 0;
  else cOut[at] = c + (Math.abs(sum) >= Math.abs(inc) ? sum - t + inc : inc - t + sum);
}

/** One member of `avg` (the state machine of `avgOf` in `aggregate.ts`). */
function addAvg(g: GroupAcc, i: number, f: number, order: number[][], id: number): void {
  const n = ++g.n[i]!;
  if (n === 1) {
    order[i]!.push(id);
    g.v[i] = f;
    g.c[i] = 0;
    g.mean![i] = f;
    return;
  }
  const mean = g.mean!;
  if (!g.inc![i]) {
    const sum = g.v[i]!;
    const c = g.c[i]!;
    kahan(f, sum, c, g.v, i, g.c);
    const ns = g.v[i]!;
    if (ns !== Infinity && ns !== -Infinity) return;
    // Overflow: restore the sum and switch to the incremental mean.
    g.v[i] = sum;
    g.inc![i] = 1;
    mean[i] = sum / (n - 1);
    g.c[i] = c / (n - 1);
  }
  const m = mean[i]!;
  if (m === Infinity || m === -Infinity) {
    if ((f === Infinity || f === -Infinity) && m > 0 === f > 0) return;
    if (f === f && f !== Infinity && f !== -Infinity) return;
  }
  const cur = m + g.c[i]!;
  kahan(f / n - cur / n, m, g.c[i]!, mean, i, g.c);
}
