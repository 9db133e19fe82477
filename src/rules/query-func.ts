/**
 * Adapters between the PromQL engine / Alertmanager notifier and the rule contracts
 * ({@link QueryFunc}, {@link NotifyFunc}).
 */
import { labelsToObject } from '../model/labels.js';
import type { AmAlert, Notifier } from '../notify/notifier.js';
import type { Engine } from '../promql/engine/index.js';
import type { Expr } from '../promql/parser/ast.js';
import type { Vector } from '../promql/engine/values.js';
import type { Queryable } from '../storage/interface.js';
import type { Alert, NotifyFunc, QueryFunc } from './rule.js';

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

function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Converts rule alerts to Alertmanager v2 alerts as Prometheus does: `startsAt` = when the
 * alert started firing, `endsAt` = resolution time for resolved alerts, else `validUntil`.
 */
export function toAmAlerts(alerts: readonly Alert[], generatorURL: (a: Alert) => string): AmAlert[] {
  return alerts.map((a) => ({
    labels: labelsToObject(a.labels),
    annotations: labelsToObject(a.annotations),
    startsAt: rfc3339(a.firedAt),
    endsAt: rfc3339(a.resolvedAt !== 0 ? a.resolvedAt : a.validUntil),
    generatorURL: generatorURL(a),
  }));
}

/** A {@link NotifyFunc} that hands alerts to a {@link Notifier} (which queues and never blocks). */
export function notifierFunc(notifier: Notifier): NotifyFunc {
  return (alerts, meta) => {
    if (alerts.length > 0) notifier.send(toAmAlerts(alerts, meta.generatorURL));
  };
}
