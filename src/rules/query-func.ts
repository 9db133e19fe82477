/**
 * Adapter between the PromQL engine and the rule contract {@link QueryFunc} (the notifier's
 * adapter to {@link NotifyFunc} is `makeNotifyFunc` in notify/alertmanager.ts).
 */
import type { Engine } from '../promql/engine/index.js';
import type { Expr } from '../promql/parser/ast.js';
import type { Vector } from '../promql/engine/values.js';
import type { Queryable } from '../storage/interface.js';
import type { QueryFunc } from './rule.js';

/** Error when a rule expression yields something other than a vector or scalar. */
export class RuleResultError extends Error {
  override name = 'RuleResultError';
}

/**
 * A {@link QueryFunc} backed by the engine: vectors are returned as they are, a scalar becomes
 * one sample without labels, anything else is an error (as Prometheus's EngineQueryFunc).
 */
export function engineQueryFunc(engine: Engine, queryable: Queryable): QueryFunc {
  return async (expr: string | Expr, ts: number, signal?: AbortSignal): Promise<Vector> => {
    const res = await engine.instantQuery(queryable, expr, ts, signal ? { signal } : {});
    const v = res.value;
    switch (v.kind) {
      case 'vector':
        return v.vector;
      case 'scalar':
        return [{ metric: [], t: v.t, f: v.v }];
      default:
        throw new RuleResultError('rule result is not a vector or scalar');
    }
  };
}
