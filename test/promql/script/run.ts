/**
 * Executes parsed test scripts against the engine and an in-memory storage, checking results
 * the way Prometheus's promqltest framework does, including the implicit re-runs of instant
 * evals (as a range query around the eval time, and with `@ <t>` pinned selectors at other
 * eval times).
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../../src/model/histogram.js';
import { LabelsBuilder, METRIC_NAME, labelsGet, labelsKey, labelsToString, type Labels } from '../../../src/model/labels.js';
import { Engine } from '../../../src/promql/engine/engine.js';
import { histogramEquals } from '../../../src/promql/engine/histogram-ops.js';
import { AT_MODIFIER_UNSAFE_FUNCTIONS } from '../../../src/promql/engine/preprocess.js';
import type { Sample, Value } from '../../../src/promql/engine/values.js';
import type { DurationExpr, Expr } from '../../../src/promql/parser/ast.js';
import { durationExprIsDynamic, parseExpr } from '../../../src/promql/parser/index.js';
import { FakeClock } from '../../../src/model/clock.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head } from '../../../src/storage/head/index.js';
import type { Queryable } from '../../../src/storage/interface.js';
import { MemoryStorage } from '../../fakes/memory-storage.js';
import { parseScript, type EvalCmd, type ExpectedLine, type LoadCmd } from './parse.js';
import type { SeqValue } from './points.js';

/** Outcome of one eval command. */
export interface EvalOutcome {
  readonly line: number;
  readonly expr: string;
  readonly ok: boolean;
  readonly reason?: string;
}

/** Prometheus's almost.Equal with epsilon 1e-6. */
export function almostEqual(a: number, b: number, eps = 1e-6): boolean {
  if (a !== a && b !== b) return true;
  if (a === b) return true;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < eps * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

function compareHistogram(exp: FloatHistogram, act: FloatHistogram, hintExplicit: boolean): string | undefined {
  if (hintExplicit && exp.counterResetHint !== act.counterResetHint) return `counter reset hint ${act.counterResetHint}, expected ${exp.counterResetHint}`;
  const norm = (h: FloatHistogram): FloatHistogram => ({ ...h, counterResetHint: CounterResetHint.Unknown });
  // Compare with tolerance by rounding through almostEqual on scalar fields first.
  if (!almostEqual(exp.count, act.count) || !almostEqual(exp.sum, act.sum) || !almostEqual(exp.zeroCount, act.zeroCount)) {
    return `count/sum/zero ${act.count}/${act.sum}/${act.zeroCount}, expected ${exp.count}/${exp.sum}/${exp.zeroCount}`;
  }
  const e2 = { ...norm(exp), count: 0, sum: 0, zeroCount: 0 };
  const a2 = { ...norm(act), count: 0, sum: 0, zeroCount: 0 };
  const round = (h: FloatHistogram): FloatHistogram => ({
    ...h,
    positiveBuckets: h.positiveBuckets.map((c) => Number(c.toPrecision(9))),
    negativeBuckets: h.negativeBuckets.map((c) => Number(c.toPrecision(9))),
  });
  if (!histogramEquals(round(e2), round(a2))) return `histogram buckets differ: got ${JSON.stringify(act)}, expected ${JSON.stringify(exp)}`;
  return undefined;
}

function fmtVal(v: SeqValue): string {
  return v.kind === 'float' ? String(v.v) : v.kind === 'hist' ? JSON.stringify(v.h) : '_';
}

/** Compares an instant-query value with the expectation; returns an error message or undefined. */
export function compareInstant(cmd: EvalCmd, value: Value, ordered: boolean): string | undefined {
  if (cmd.expectString !== undefined) {
    if (value.kind !== 'string') return `expected string result, got ${value.kind}`;
    return value.v === cmd.expectString ? undefined : `expected string ${JSON.stringify(cmd.expectString)}, got ${JSON.stringify(value.v)}`;
  }
  switch (value.kind) {
    case 'string':
      return `unexpected string result ${JSON.stringify(value.v)}`;
    case 'scalar': {
      if (cmd.expected.length !== 1 || cmd.expected[0]!.labels !== null) return `expected ${cmd.expected.length} series, got scalar ${value.v}`;
      const e = cmd.expected[0]!.values[0]!;
      if (e.kind !== 'float' || !almostEqual(e.v, value.v)) return `expected scalar ${fmtVal(e)}, got ${value.v}`;
      return undefined;
    }
    case 'vector':
      return compareVector(cmd.expected, value.vector, ordered);
    case 'matrix': {
      const rv = cmd.rangeVector ?? { start: cmd.start, end: cmd.end, step: 0 };
      return compareMatrix(cmd.expected, value.matrix, rv.start, rv.end, rv.step);
    }
  }
}

function compareVector(expected: readonly ExpectedLine[], vec: readonly Sample[], ordered: boolean): string | undefined {
  if (expected.some((e) => e.labels === null)) return `expected scalar, got vector of ${vec.length}`;
  const exp = new Map<string, { line: ExpectedLine; pos: number }>();
  expected.forEach((l, i) => exp.set(labelsKey(l.labels!), { line: l, pos: i }));
  const seen = new Set<string>();
  for (let i = 0; i < vec.length; i++) {
    const s = vec[i]!;
    const k = labelsKey(s.metric);
    const e = exp.get(k);
    if (!e) return `unexpected metric ${labelsToString(s.metric)} in result (value ${s.h ? 'histogram' : s.f})`;
    if (ordered && e.pos !== i) return `expected metric ${labelsToString(s.metric)} at position ${e.pos + 1} but was at ${i + 1}`;
    if (e.line.values.length !== 1) return `expected exactly one value for ${labelsToString(s.metric)} in instant evaluation`;
    const ev = e.line.values[0]!;
    if (ev.kind === 'hist') {
      if (!s.h) return `expected histogram for ${labelsToString(s.metric)} but got float ${s.f}`;
      const d = compareHistogram(ev.h, s.h, ev.hintExplicit);
      if (d) return `${labelsToString(s.metric)}: ${d}`;
    } else if (ev.kind === 'float') {
      if (s.h) return `expected float ${ev.v} for ${labelsToString(s.metric)} but got histogram`;
      if (!almostEqual(ev.v, s.f)) return `expected ${ev.v} for ${labelsToString(s.metric)} but got ${s.f}`;
    } else return `omitted value in instant expectation for ${labelsToString(s.metric)}`;
    seen.add(k);
  }
  for (const [k, e] of exp) if (!seen.has(k)) return `expected metric ${labelsToString(e.line.labels!)} not found`;
  return undefined;
}

function compareMatrix(expected: readonly ExpectedLine[], m: Value & { kind: 'matrix' } extends { matrix: infer M } ? M : never, start: number, end: number, step: number): string | undefined {
  if (expected.some((e) => e.labels === null)) return `expected scalar, got matrix`;
  for (let i = 1; i < m.length; i++) {
    if (labelsKey(m[i - 1]!.metric) === labelsKey(m[i]!.metric)) return `duplicate series ${labelsToString(m[i]!.metric)} in matrix`;
  }
  const exp = new Map<string, ExpectedLine>();
  for (const l of expected) exp.set(labelsKey(l.labels!), l);
  const seen = new Set<string>();
  for (const s of m) {
    const k = labelsKey(s.metric);
    const e = exp.get(k);
    if (!e) return `unexpected metric ${labelsToString(s.metric)} in result`;
    seen.add(k);
    const ef: { t: number; f: number }[] = [];
    const eh: { t: number; h: FloatHistogram; hint: boolean }[] = [];
    for (let i = 0; i < e.values.length; i++) {
      const t = start + i * step;
      if (t > end) return `expected ${e.values.length} points for ${labelsToString(s.metric)}, but query time range cannot return this many points`;
      const v = e.values[i]!;
      if (v.kind === 'float') ef.push({ t, f: v.v });
      else if (v.kind === 'hist') eh.push({ t, h: v.h, hint: v.hintExplicit });
    }
    if (ef.length !== s.floats.length || eh.length !== s.histograms.length) {
      return `expected ${ef.length} float points and ${eh.length} histogram points for ${labelsToString(s.metric)}, but got floats ${JSON.stringify(s.floats.map((p) => [p.t / 1000, p.f]))} and ${s.histograms.length} histograms`;
    }
    for (let i = 0; i < ef.length; i++) {
      const a = s.floats[i]!;
      const x = ef[i]!;
      if (a.t !== x.t) return `expected float at index ${i} for ${labelsToString(s.metric)} to have timestamp ${x.t}, but it had ${a.t}`;
      if (!almostEqual(a.f, x.f)) return `expected ${x.f} for ${labelsToString(s.metric)} at ${x.t / 1000}s, got ${a.f}`;
    }
    for (let i = 0; i < eh.length; i++) {
      const a = s.histograms[i]!;
      const x = eh[i]!;
      if (a.t !== x.t) return `expected histogram at index ${i} for ${labelsToString(s.metric)} to have timestamp ${x.t}, but it had ${a.t}`;
      const d = compareHistogram(x.h, a.h, x.hint);
      if (d) return `${labelsToString(s.metric)} at ${x.t / 1000}s: ${d}`;
    }
  }
  for (const [k, e] of exp) if (!seen.has(k)) return `expected metric ${labelsToString(e.labels!)} not found`;
  return undefined;
}

/** Checks fail/warn/info expectations against annotations; returns an error message or undefined. */
function checkAnnotations(cmd: EvalCmd, warnings: readonly string[], infos: readonly string[]): string | undefined {
  for (const [type, noType, got] of [
    ['warn', 'no_warn', warnings],
    ['info', 'no_info', infos],
  ] as const) {
    const exps = cmd.expects.filter((e) => e.type === type);
    if (cmd.expects.some((e) => e.type === noType) && got.length > 0) return `unexpected ${type} annotations: ${got.join('; ')}`;
    if (exps.length === 0) continue;
    if (got.length === 0) return `expected ${type} annotation but got none`;
    const matches = (e: (typeof exps)[number], a: string): boolean =>
      !e.match || (e.match.kind === 'msg' ? e.match.value === a : new RegExp(e.match.value).test(a));
    for (const e of exps) if (!got.some((a) => matches(e, a))) return `no ${type} annotation matches ${e.match?.kind}: ${e.match?.value} (got: ${got.join('; ')})`;
    for (const a of got) if (!exps.some((e) => matches(e, a))) return `unexpected ${type} annotation: ${a}`;
  }
  return undefined;
}

function checkFailure(cmd: EvalCmd, err: unknown): string | undefined {
  const f = cmd.expects.find((e) => e.type === 'fail');
  const msg = err instanceof Error ? err.message : String(err);
  if (!f) return `unexpected error: ${msg}`;
  if (!f.match) return undefined;
  if (f.match.kind === 'msg') return f.match.value === msg ? undefined : `expected error ${JSON.stringify(f.match.value)}, got ${JSON.stringify(msg)}`;
  return new RegExp(f.match.value).test(msg) ? undefined : `expected error matching /${f.match.value}/, got ${JSON.stringify(msg)}`;
}

/** The `@`-pinned variant of an instant query, or undefined when it contains an @-unsafe function. */
export function pinAt(e: Expr, ts: number): Expr | undefined {
  let unsafe = false;
  let pinned = 0;
  const walk = (n: Expr): Expr => {
    switch (n.kind) {
      case 'VectorSelector':
        if (n.at !== null || n.atModifier !== null) return n;
        pinned++;
        return { ...n, at: ts };
      case 'MatrixSelector': {
        const vs = n.vectorSelector;
        if (vs.at !== null || vs.atModifier !== null) return n;
        pinned++;
        return { ...n, vectorSelector: { ...vs, at: ts } };
      }
      case 'SubqueryExpr':
        if (n.at !== null || n.atModifier !== null) return n;
        pinned++;
        return { ...n, at: ts };
      case 'Call':
        if (AT_MODIFIER_UNSAFE_FUNCTIONS.has(n.func)) unsafe = true;
        return { ...n, args: n.args.map(walk) };
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return { ...n, expr: walk(n.expr) };
      case 'BinaryExpr':
        return { ...n, lhs: walk(n.lhs), rhs: walk(n.rhs) };
      case 'AggregateExpr':
        return { ...n, expr: walk(n.expr), param: n.param ? walk(n.param) : null };
      default:
        return n;
    }
  };
  const out = walk(e);
  return unsafe || pinned === 0 ? undefined : out;
}

const QUERY_RANGE_FUNCS = new Set(['step', 'range', 'start', 'end']);

function dyn(d: DurationExpr | undefined): boolean {
  return d !== undefined && durationExprIsDynamic(d);
}

function usesQueryRange(e: Expr): boolean {
  switch (e.kind) {
    case 'Call':
      return QUERY_RANGE_FUNCS.has(e.func) || e.args.some(usesQueryRange);
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return usesQueryRange(e.expr);
    case 'SubqueryExpr':
      return e.atModifier !== null || dyn(e.offsetExpr) || dyn(e.rangeExpr) || dyn(e.stepExpr) || usesQueryRange(e.expr);
    case 'VectorSelector':
      return e.atModifier !== null || dyn(e.offsetExpr);
    case 'MatrixSelector':
      return e.vectorSelector.atModifier !== null || dyn(e.vectorSelector.offsetExpr) || dyn(e.rangeExpr);
    case 'BinaryExpr':
      return usesQueryRange(e.lhs) || usesQueryRange(e.rhs);
    case 'AggregateExpr':
      return usesQueryRange(e.expr) || (e.param !== null && usesQueryRange(e.param));
    default:
      return false;
  }
}

/**
 * A copy of the memory storage's data in a real {@link Head}: every series' samples appended in
 * time order, so the evals also run through the head's read path (postings, chunk decoding,
 * the latest-sample fast path).
 */
async function headCopy(mem: MemoryStorage): Promise<Queryable> {
  const clock = new FakeClock(0);
  const head = new Head({ retentionMs: 1e15, clock });
  const q = mem.querier(-Infinity, Infinity);
  const series = q.select({ mint: -Infinity, maxt: Infinity, matchers: [newMatcher('=~', METRIC_NAME, '.*')], sorted: false });
  const app = head.appender();
  for (const s of series) {
    const d = s.samples();
    let i = 0;
    let j = 0;
    let ref = 0;
    while (i < d.t.length || j < d.histograms.length) {
      if (j >= d.histograms.length || (i < d.t.length && d.t[i]! <= d.histograms[j]!.t)) {
        ref = app.append(ref, s.labels, d.t[i]!, d.v[i]!, d.st?.[i]);
        i++;
      } else {
        const hp = d.histograms[j]!;
        ref = app.appendHistogram(ref, s.labels, hp.t, hp.h, hp.st);
        j++;
      }
    }
  }
  await app.commit();
  return head;
}

/** Runs scripts; one instance per file. */
export class ScriptRunner {
  readonly storage = new MemoryStorage();
  readonly engine: Engine;
  private head: Queryable | undefined;
  private dirty = true;

  /** @param useHead evaluate against a {@link Head} holding the loaded data instead of the memory storage */
  constructor(
    engine = new Engine(),
    private readonly useHead = false,
  ) {
    this.engine = engine;
  }

  /** The storage evals read from. */
  private async target(): Promise<Queryable> {
    if (!this.useHead) return this.storage;
    if (this.dirty || !this.head) {
      this.head = await headCopy(this.storage);
      this.dirty = false;
    }
    return this.head;
  }

  /** Runs a script and returns one outcome per eval. */
  async run(text: string): Promise<EvalOutcome[]> {
    const out: EvalOutcome[] = [];
    for (const cmd of parseScript(text)) {
      if (cmd.kind === 'clear') {
        this.storage.clear();
        this.dirty = true;
      } else if (cmd.kind === 'load') {
        this.load(cmd);
        this.dirty = true;
      }
      else {
        let reason: string | undefined;
        try {
          reason = await this.evalCmd(cmd);
        } catch (e) {
          reason = `runner error: ${(e as Error).stack ?? String(e)}`;
        }
        out.push(reason === undefined ? { line: cmd.line, expr: cmd.expr, ok: true } : { line: cmd.line, expr: cmd.expr, ok: false, reason });
      }
    }
    return out;
  }

  private load(cmd: LoadCmd): void {
    for (const s of cmd.series) {
      s.values.forEach((v, i) => {
        const t = i * cmd.interval;
        const rel = s.starts?.[i];
        const st = rel === undefined ? 0 : t + rel;
        if (v.kind === 'float') this.storage.addFloat(s.labels, t, v.v, st);
        else if (v.kind === 'hist') this.storage.addHistogram(s.labels, t, v.h, st);
      });
    }
    if (cmd.withNhcb) this.loadNhcb(cmd);
  }

  /** Converts classic histogram series (`_bucket` with `le`, `_sum`, `_count`) to NHCB series. */
  private loadNhcb(cmd: LoadCmd): void {
    const groups = new Map<string, { labels: Labels; buckets: { le: number; values: SeqValue[] }[]; sum?: SeqValue[]; count?: SeqValue[] }>();
    const baseOf = (ls: Labels, suffix: string): Labels | undefined => {
      const name = labelsGet(ls, METRIC_NAME);
      if (!name.endsWith(suffix)) return undefined;
      return new LabelsBuilder(ls).set(METRIC_NAME, name.slice(0, -suffix.length)).del('le').labels();
    };
    const group = (ls: Labels) => {
      const k = labelsKey(ls);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { labels: ls, buckets: [] }));
      return g;
    };
    for (const s of cmd.series) {
      const b = baseOf(s.labels, '_bucket');
      if (b && labelsGet(s.labels, 'le') !== '') {
        const le = Number(labelsGet(s.labels, 'le').replace(/^\+?inf$/i, 'Infinity'));
        if (!Number.isNaN(le)) group(b).buckets.push({ le, values: s.values });
        continue;
      }
      const sm = baseOf(s.labels, '_sum');
      if (sm) {
        group(sm).sum = s.values;
        continue;
      }
      const c = baseOf(s.labels, '_count');
      if (c) group(c).count = s.values;
    }
    for (const g of groups.values()) {
      if (g.buckets.length === 0) continue;
      const byLe = new Map<number, SeqValue[]>();
      for (const b of g.buckets) byLe.set(b.le, b.values);
      const les = [...byLe.keys()].sort((a, b) => a - b);
      const n = Math.max(...g.buckets.map((b) => b.values.length));
      for (let i = 0; i < n; i++) {
        const cum: number[] = [];
        let ok = true;
        for (const le of les) {
          const v = byLe.get(le)![i];
          if (!v || v.kind !== 'float' || v.stale) {
            ok = false;
            break;
          }
          cum.push(v.v);
        }
        if (!ok) continue;
        const finite = les.filter((x) => x !== Infinity);
        const counts = cum.map((c, j) => (j === 0 ? c : c - cum[j - 1]!));
        if (les[les.length - 1] !== Infinity) counts.push(0);
        const sv = g.sum?.[i];
        const cv = g.count?.[i];
        const h: FloatHistogram = {
          counterResetHint: CounterResetHint.Unknown,
          schema: CUSTOM_BUCKETS_SCHEMA,
          zeroThreshold: 0,
          zeroCount: 0,
          count: cv && cv.kind === 'float' ? cv.v : cum[cum.length - 1]!,
          sum: sv && sv.kind === 'float' ? sv.v : 0,
          positiveSpans: [{ offset: 0, length: counts.length }],
          negativeSpans: [],
          positiveBuckets: counts,
          negativeBuckets: [],
          customValues: finite,
        };
        this.storage.addHistogram(g.labels, i * cmd.interval, h);
      }
    }
  }

  private async evalCmd(cmd: EvalCmd): Promise<string | undefined> {
    if (cmd.blockError) return `bad eval block: ${cmd.blockError}`;
    const expectFail = cmd.expects.some((e) => e.type === 'fail');
    const ordered = cmd.expects.some((e) => e.type === 'ordered');
    let expr: Expr;
    try {
      expr = parseExpr(cmd.expr);
    } catch (e) {
      return checkFailure(cmd, e);
    }
    const storage = await this.target();
    if (cmd.isRange) {
      let res;
      try {
        res = await this.engine.rangeQuery(storage, expr, cmd.start, cmd.end, cmd.step, { source: cmd.expr });
      } catch (e) {
        return checkFailure(cmd, e);
      }
      if (expectFail) return 'expected error but got none';
      const a = checkAnnotations(cmd, res.warnings, res.infos);
      if (a) return a;
      if (res.value.kind !== 'matrix') return `range query returned ${res.value.kind}`;
      return compareMatrix(cmd.expected, res.value.matrix, cmd.start, cmd.end, cmd.step);
    }
    const runs: { expr: Expr; ts: number; what: string }[] = [{ expr, ts: cmd.start, what: 'instant' }];
    const ts = cmd.start;
    const pinned = pinAt(expr, ts);
    if (pinned) {
      const times = ts === 0 ? [-1000000, 1000000] : [-10 * ts, 0, Math.trunc(ts / 5), ts, 10 * ts];
      for (const t of times) runs.push({ expr: pinned, ts: t, what: `@-pinned at ${t / 1000}s` });
    }
    for (const r of runs) {
      let res;
      try {
        res = await this.engine.instantQuery(storage, r.expr, r.ts, { source: cmd.expr });
      } catch (e) {
        const f = checkFailure(cmd, e);
        if (f) return `${r.what}: ${f}`;
        continue;
      }
      if (expectFail) return `${r.what}: expected error but got none`;
      const a = checkAnnotations(cmd, res.warnings, res.infos);
      if (a) return `${r.what}: ${a}`;
      const c = compareInstant(cmd, res.value, ordered);
      if (c) return `${r.what}: ${c}`;
      // Range-mode check at the middle step.
      // Queries that read the query's own range (step(), range(), start(), end()) legitimately
      // differ in range mode, so that check is skipped for them.
      if (res.value.kind === 'string' || res.value.kind === 'matrix' || ordered || usesQueryRange(r.expr)) continue;
      let rr;
      try {
        rr = await this.engine.rangeQuery(storage, r.expr, r.ts - 60_000, r.ts + 60_000, 60_000, { source: cmd.expr });
      } catch (e) {
        return `${r.what} range mode: error ${(e as Error).message}`;
      }
      if (rr.value.kind !== 'matrix') return `${r.what} range mode: got ${rr.value.kind}`;
      const vec: Sample[] = [];
      for (const s of rr.value.matrix) {
        const f = s.floats.find((p) => p.t === r.ts);
        if (f) vec.push({ metric: s.metric, t: f.t, f: f.f });
        const h = s.histograms.find((p) => p.t === r.ts);
        if (h) vec.push({ metric: s.metric, t: h.t, f: 0, h: h.h });
      }
      const value: Value = res.value.kind === 'scalar' ? { kind: 'scalar', t: r.ts, v: vec[0]?.f ?? NaN } : { kind: 'vector', vector: vec };
      const c2 = compareInstant(cmd, value, false);
      if (c2) return `${r.what} range mode: ${c2}`;
    }
    return undefined;
  }
}
