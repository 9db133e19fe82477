/**
 * Shared bookkeeping of runnable rules: health, last error, evaluation time and the ring buffer
 * of recent evaluations shown by the API.
 */
import { labelsKey, type Labels } from '../model/labels.js';
import type { Expr } from '../promql/parser/ast.js';
import { parseExpr, printExpr } from '../promql/parser/index.js';
import type { RuleEvaluation, RuleHealth } from './rule.js';

/** Number of recent evaluations each rule keeps. */
export const RECENT_EVALUATIONS = 32;

/** Health/last-error/duration state of a rule plus a bounded ring of recent evaluations. */
export class EvalRecord {
  private readonly ring: (RuleEvaluation | undefined)[] = new Array<RuleEvaluation | undefined>(RECENT_EVALUATIONS);
  private next = 0;
  private count = 0;
  private _health: RuleHealth = 'unknown';
  private _lastError: string | undefined;
  private _lastEval = 0;
  private _durationMs = 0;

  /** Records one evaluation. */
  record(ts: number, durationMs: number, samples: number, error?: string): void {
    const e: RuleEvaluation = error === undefined ? { ts, durationMs, samples } : { ts, durationMs, samples, error };
    this.ring[this.next] = e;
    this.next = (this.next + 1) % RECENT_EVALUATIONS;
    this.count = Math.min(this.count + 1, RECENT_EVALUATIONS);
    this._health = error === undefined ? 'ok' : 'err';
    this._lastError = error;
    this._lastEval = ts;
    this._durationMs = durationMs;
  }

  /** Copies the state of another record (hot reload). */
  copyFrom(o: EvalRecord): void {
    for (const e of o.recent()) this.record(e.ts, e.durationMs, e.samples, e.error);
    this._health = o._health;
    this._lastError = o._lastError;
  }

  health(): RuleHealth {
    return this._health;
  }
  lastError(): string | undefined {
    return this._lastError;
  }
  lastEvaluation(): number {
    return this._lastEval;
  }
  evaluationTimeMs(): number {
    return this._durationMs;
  }

  /** Recent evaluations, oldest first. */
  recent(): RuleEvaluation[] {
    const out: RuleEvaluation[] = [];
    for (let i = 0; i < this.count; i++) {
      const e = this.ring[(this.next - this.count + i + RECENT_EVALUATIONS) % RECENT_EVALUATIONS];
      if (e) out.push(e);
    }
    return out;
  }
}

/** Message of an unknown thrown value. */
export function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A rule's expression, parsed once when the rule is built: the AST, the query text the rule
 * reports (the printed AST, or the text as written when it does not parse) and the parse error.
 */
export function parseRuleExpr(text: string): { expr: Expr | undefined; query: string; parseError: string | undefined } {
  try {
    const expr = parseExpr(text);
    return { expr, query: printExpr(expr), parseError: undefined };
  } catch (e) {
    return { expr: undefined, query: text, parseError: errMessage(e) };
  }
}

/** Throws when a rule produced more series than its group's `limit` allows (0 = no limit). */
export function checkSeriesLimit(limit: number, n: number): void {
  if (limit > 0 && n > limit) throw new Error(`exceeded limit of ${limit} with ${n} series`);
}

/** High-resolution monotonic milliseconds (for durations only). */
export function monoMs(): number {
  return performance.now();
}

/** Keys ({@link labelsKey}) of output label sets that rules reuse across evaluations. */
const outputKeys = new WeakMap<Labels, string>();

/** Records `key` as the {@link labelsKey} of `labels` (an output label set a rule will reuse). */
export function rememberKey(labels: Labels, key: string): void {
  outputKeys.set(labels, key);
}

/** {@link labelsKey} of `labels`, from the memo of {@link rememberKey} when present. */
export function outputKey(labels: Labels): string {
  return outputKeys.get(labels) ?? labelsKey(labels);
}

/** Health, last error and recent evaluations of a rule, answered from its {@link EvalRecord}. */
export abstract class RecordedRule {
  protected readonly rec = new EvalRecord();

  health(): RuleHealth {
    return this.rec.health();
  }
  lastError(): string | undefined {
    return this.rec.lastError();
  }
  lastEvaluation(): number {
    return this.rec.lastEvaluation();
  }
  evaluationTimeMs(): number {
    return this.rec.evaluationTimeMs();
  }
  recent(): readonly RuleEvaluation[] {
    return this.rec.recent();
  }
}
