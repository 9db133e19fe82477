/**
 * Spans for rule evaluation, created from outside the rule engine (which has no tracing hook):
 * a wrapped `QueryFunc` opens one `rules.group` span per group iteration (recognised by the
 * group's AbortSignal and the evaluation timestamp) with one `rules.query` child span per query,
 * tagged with the rule that owns the expression; the wrapped series sink closes the group span
 * when the group publishes its output. {@link RuleTracing.parentFor} gives the open group span
 * of an alert (by alertname), so notification and correlation spans join the same trace.
 *
 * Limits of the outside view: a group is identified by the expressions it queries (an
 * expression shared by several groups is resolved by the other queries of the iteration, or
 * stays untagged); a group that makes no query gets no span.
 */
import type { Sample } from '../promql/engine/values.js';
import type { Expr } from '../promql/parser/ast.js';
import { parseExpr, printExpr } from '../promql/parser/index.js';
import { ruleConfigName, type QueryFunc, type RuleGroupConfig, type SeriesSink } from '../rules/rule.js';
import { noopTracer, type VigilSpan, type VigilTracer } from './tracer.js';

/** Groups whose span was never closed by a publish are closed after this long (ms). */
const MAX_OPEN_MS = 10 * 60_000;

interface RuleRef {
  readonly group: string;
  readonly groupName: string;
  readonly rule: string;
}

interface Iteration {
  readonly ts: number;
  readonly span: VigilSpan;
  readonly startedAt: number;
  /** Group keys still possible for this iteration. */
  candidates: Set<string> | undefined;
  inFlight: number;
  finished: boolean;
}

/** The group key the rule manager uses (`file;name`). */
function keyOf(g: RuleGroupConfig): string {
  return `${g.file};${g.name}`;
}

/** See the module comment. */
export class RuleTracing {
  private readonly byExpr = new Map<string, RuleRef[]>();
  private readonly byAlert = new Map<string, Set<string>>();
  private readonly bySignal = new WeakMap<object, Iteration>();
  private readonly open = new Set<Iteration>();
  private readonly noSignal = {};
  /** Printed form of the expressions rules pass (stable objects, printed once). */
  private readonly printed = new WeakMap<Expr, string>();

  constructor(private readonly tracer: VigilTracer = noopTracer) {}

  /** Whether spans are recorded at all. */
  get enabled(): boolean {
    return this.tracer.enabled;
  }

  /** Learns which group and rule own each expression and alert name (call on every apply). */
  setGroups(groups: readonly RuleGroupConfig[]): void {
    this.byExpr.clear();
    this.byAlert.clear();
    for (const g of groups) {
      const key = keyOf(g);
      for (const r of g.rules) {
        const expr = canonical((r as { expr?: unknown }).expr);
        const name = ruleConfigName(r);
        if (expr !== undefined) {
          let refs = this.byExpr.get(expr);
          if (!refs) this.byExpr.set(expr, (refs = []));
          refs.push({ group: key, groupName: g.name, rule: name });
        }
        if (r.kind === 'alerting') {
          let s = this.byAlert.get(r.alert);
          if (!s) this.byAlert.set(r.alert, (s = new Set()));
          s.add(key);
        }
      }
    }
  }

  /** Wraps the rules' query function (returns `inner` itself when tracing is off). */
  query(inner: QueryFunc): QueryFunc {
    if (!this.tracer.enabled) return inner;
    return async (expr: string | Expr, ts: number, signal?: AbortSignal) => {
      const it = this.iteration(signal ?? this.noSignal, ts);
      const text = this.text(expr);
      const refs = text !== undefined ? this.byExpr.get(text) : undefined;
      if (refs && refs.length > 0) this.narrow(it, refs);
      const ref = refs?.find((r) => it.candidates === undefined || it.candidates.has(r.group));
      const span = this.tracer.startSpan('rules.query', {
        childOf: it.span,
        tags: { ...(ref ? { rule: ref.rule } : {}), ...(text !== undefined ? { expr: text.length > 300 ? text.slice(0, 300) + '…' : text } : {}), ts },
      });
      it.inFlight++;
      try {
        const v = await inner(expr, ts, signal);
        span.setTag('series', v.length);
        return v;
      } catch (e) {
        span.fail(e);
        throw e;
      } finally {
        it.inFlight--;
        span.finish();
      }
    };
  }

  /** Wraps a series sink: a group's publish closes its open iteration span. */
  sink(inner: SeriesSink): SeriesSink {
    if (!this.tracer.enabled) return inner;
    return {
      publish: (groupKey: string, ts: number, series: readonly Sample[]) => {
        this.finishGroup(groupKey, ts, series.length);
        inner.publish(groupKey, ts, series);
      },
      drop: (groupKey: string) => inner.drop(groupKey),
    };
  }

  /** The open group span of the group owning alert rule `alertname` (undefined when unknown). */
  parentFor(alertname: string | undefined): VigilSpan | undefined {
    if (!this.tracer.enabled || alertname === undefined) return undefined;
    const groups = this.byAlert.get(alertname);
    if (!groups) return undefined;
    let best: Iteration | undefined;
    for (const it of this.open) {
      if (it.finished || it.candidates === undefined || it.candidates.size !== 1) continue;
      const [g] = it.candidates;
      if (groups.has(g!) && (best === undefined || it.startedAt > best.startedAt)) best = it;
    }
    return best?.span;
  }

  /** Finishes every open span (shutdown). */
  close(): void {
    for (const it of this.open) this.end(it);
  }

  private text(expr: string | Expr): string | undefined {
    if (typeof expr === 'string') return expr;
    let t = this.printed.get(expr);
    if (t === undefined) {
      try {
        t = printExpr(expr);
      } catch {
        t = '';
      }
      this.printed.set(expr, t);
    }
    return t === '' ? undefined : t;
  }

  private iteration(signal: object, ts: number): Iteration {
    let it = this.bySignal.get(signal);
    if (it && it.ts === ts && !it.finished) return it;
    if (it && !it.finished) this.end(it); // the group moved on without a publish we could match
    this.sweep();
    it = { ts, span: this.tracer.startSpan('rules.group', { tags: { ts } }), startedAt: Date.now(), candidates: undefined, inFlight: 0, finished: false };
    this.bySignal.set(signal, it);
    this.open.add(it);
    return it;
  }

  private narrow(it: Iteration, refs: readonly RuleRef[]): void {
    const groups = new Set(refs.map((r) => r.group));
    if (it.candidates === undefined) it.candidates = groups;
    else {
      const both = new Set([...it.candidates].filter((g) => groups.has(g)));
      if (both.size > 0) it.candidates = both;
    }
    if (it.candidates.size === 1) {
      const ref = refs.find((r) => it.candidates!.has(r.group));
      if (ref) it.span.setTag('group', ref.groupName).setTag('group_key', ref.group);
    }
  }

  private finishGroup(groupKey: string, ts: number, series: number): void {
    let match: Iteration | undefined;
    for (const it of this.open) {
      if (it.finished || it.ts !== ts || it.inFlight > 0 || !it.candidates?.has(groupKey)) continue;
      if (match === undefined || it.candidates.size < match.candidates!.size) match = it;
    }
    if (match) {
      match.span.setTag('group_key', groupKey).setTag('series', series);
      this.end(match);
    }
  }

  private end(it: Iteration): void {
    if (it.finished) return;
    it.finished = true;
    this.open.delete(it);
    it.span.finish();
  }

  private sweep(): void {
    const now = Date.now();
    for (const it of this.open) if (now - it.startedAt > MAX_OPEN_MS) this.end(it);
  }
}

/** The printed form of a rule's expression text (undefined when it does not parse). */
function canonical(expr: unknown): string | undefined {
  if (typeof expr !== 'string') return undefined;
  try {
    return printExpr(parseExpr(expr));
  } catch {
    return undefined;
  }
}
