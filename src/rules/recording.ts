/**
 * Recording rules: evaluate `expr`, rename the result to `record`, apply the rule labels.
 */
import { LabelsBuilder, labelsKey, METRIC_NAME, type Labels } from '../model/labels.js';
import type { Expr } from '../promql/parser/ast.js';
import { labelsKeyOf } from '../promql/engine/labels.js';
import type { Sample } from '../promql/engine/values.js';
import { checkSeriesLimit, errMessage, monoMs, parseRuleExpr, rememberKey, RecordedRule } from './base.js';
import type { EvalContext, RecordingRuleConfig, Rule, RuleResult } from './rule.js';

/** Error text when two output series collide after relabeling (as Prometheus). */
export const ERR_DUPLICATE_RECORDING = 'vector contains metrics with the same labelset after applying rule labels';

/** Output labels of one input series. */
interface OutputMemo {
  readonly metric: Labels;
  readonly key: string;
}

/** A runnable recording rule. */
export class RecordingRule extends RecordedRule implements Rule {
  readonly kind = 'recording' as const;
  readonly name: string;
  /** The parsed expression (undefined when it does not parse; every eval then fails). */
  readonly expr: Expr | undefined;
  /** The expression as printed (for the API). */
  readonly query: string;
  private readonly parseError: string | undefined;
  private readonly ruleLabels: readonly [string, string][];
  /** Output labels and key per input series key, from the previous evaluation. */
  private memo = new Map<string, OutputMemo>();

  /** `config.labels` should already include the group labels (rule labels winning). */
  constructor(readonly config: RecordingRuleConfig) {
    super();
    this.name = config.record;
    this.ruleLabels = Object.entries(config.labels);
    ({ expr: this.expr, query: this.query, parseError: this.parseError } = parseRuleExpr(config.expr));
  }

  /** Evaluates once; never throws. */
  async eval(ctx: EvalContext): Promise<RuleResult> {
    const start = monoMs();
    try {
      if (!this.expr) throw new Error(this.parseError ?? 'no expression');
      const vec = await ctx.query(this.expr, ctx.ts, ctx.signal);
      const out: Sample[] = [];
      const seen = new Set<string>();
      const next = new Map<string, OutputMemo>();
      for (const s of vec) {
        // Output labels depend only on the input labels: reuse them (and their key) per input series.
        const ik = labelsKeyOf(s.metric);
        let m = this.memo.get(ik);
        if (m === undefined) {
          const b = new LabelsBuilder(s.metric).set(METRIC_NAME, this.config.record);
          for (const [k, v] of this.ruleLabels) b.set(k, v);
          const metric = b.labels();
          m = { metric, key: labelsKey(metric) };
          rememberKey(metric, m.key);
        }
        next.set(ik, m);
        const { metric, key: k } = m;
        if (seen.has(k)) throw new Error(ERR_DUPLICATE_RECORDING);
        seen.add(k);
        const o: Sample = { metric, t: ctx.ts, f: s.f };
        if (s.h) o.h = s.h;
        out.push(o);
      }
      this.memo = next;
      checkSeriesLimit(ctx.limit, out.length);
      this.rec.record(ctx.ts, monoMs() - start, out.length);
      return { series: out };
    } catch (e) {
      this.rec.record(ctx.ts, monoMs() - start, 0, errMessage(e));
      return { series: [] };
    }
  }


  /** Takes over health and recent evaluations of a rule it replaces (hot reload). */
  copyStateFrom(o: RecordingRule): void {
    this.rec.copyFrom(o.rec);
  }
}
