/**
 * Span helpers of the rule engine (used by `src/rules/group.ts` through its optional
 * `tracer`): one `rules.group` span per group iteration, a `rules.rule` child per rule, and a
 * `rules.query` child of the rule span per query the rule makes (the rule's {@link EvalContext}
 * carries the rule span and a query function that opens those spans). The notification of the
 * alerts a rule produced gets the rule span as parent (`NotifyFunc` meta). Depends only on the
 * {@link SpanFactory} contract, not on jaeger-client.
 */
import type { Expr } from '../promql/parser/ast.js';
import { printExpr } from '../promql/parser/index.js';
import type { EvalContext, QueryFunc } from '../rules/rule.js';
import type { SpanFactory, SpanTagValue, TraceSpan } from './span.js';

/** Longest expression text put in a span tag. */
const MAX_EXPR_TAG = 300;

/** Printed, truncated expression text for a span tag ('' when it cannot be printed). */
export function exprTag(expr: string | Expr): string {
  let t: string;
  try {
    t = typeof expr === 'string' ? expr : printExpr(expr);
  } catch {
    return '';
  }
  return t.length > MAX_EXPR_TAG ? t.slice(0, MAX_EXPR_TAG) + '…' : t;
}

/** A query function that opens a `rules.query` span (child of `parent`) around each query of `inner`. */
export function tracedQuery(tracer: SpanFactory, inner: QueryFunc, parent: TraceSpan, rule: string): QueryFunc {
  return async (expr, ts, signal) => {
    const tags: Record<string, SpanTagValue> = { rule, ts };
    const text = exprTag(expr);
    if (text !== '') tags.expr = text;
    const span = tracer.startSpan('rules.query', { childOf: parent, tags });
    try {
      const v = await inner(expr, ts, signal);
      span.setTag('series', v.length);
      return v;
    } catch (e) {
      span.fail(e);
      throw e;
    } finally {
      span.finish();
    }
  };
}

/** The `rules.group` span of one iteration (undefined when tracing is off). */
export function startGroupSpan(tracer: SpanFactory | undefined, tags: Readonly<Record<string, SpanTagValue | undefined>>): TraceSpan | undefined {
  if (!tracer?.enabled) return undefined;
  const t: Record<string, SpanTagValue> = {};
  for (const [k, v] of Object.entries(tags)) if (v !== undefined) t[k] = v;
  return tracer.startSpan('rules.group', { tags: t });
}

/**
 * The evaluation context of one rule inside a traced iteration: a `rules.rule` span (child of
 * `group`) set as `ctx.span`, and `ctx.query` wrapped by {@link tracedQuery}. Returns `ctx`
 * unchanged (and no span) when `group` is undefined (tracing off).
 */
export function ruleContext(
  tracer: SpanFactory | undefined,
  group: TraceSpan | undefined,
  ctx: EvalContext,
  rule: { readonly name: string; readonly kind: string },
): { readonly ctx: EvalContext; readonly span?: TraceSpan } {
  if (!tracer || !group) return { ctx };
  const span = tracer.startSpan('rules.rule', { childOf: group, tags: { rule: rule.name, kind: rule.kind } });
  return { ctx: { ...ctx, span, query: tracedQuery(tracer, ctx.query, span, rule.name) }, span };
}
