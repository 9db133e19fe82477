/**
 * Restores the `for` state of alerting rules after a restart from the `ALERTS_FOR_STATE` series
 * they wrote before (as Prometheus's RestoreForState).
 */
import { labelsToString } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { newMatcher } from '../model/matchers.js';
import { isStaleNaN } from '../model/samples.js';
import type { Queryable } from '../storage/interface.js';
import { forStateLabels, type AlertingRule } from './alerting.js';
import { errMessage } from './base.js';

/** Options of {@link restoreForState}. */
export interface RestoreOptions {
  /** Max downtime for which state is restored (`--rules.alert.for-outage-tolerance`, 1h). */
  readonly outageToleranceMs: number;
  /** Minimum time an alert waits after a restart before firing (`--rules.alert.for-grace-period`, 10m). */
  readonly gracePeriodMs: number;
  readonly logger?: Logger;
}

/**
 * For each active alert of each rule (after the group's first evaluation at `ts`), finds the
 * last `ALERTS_FOR_STATE` sample within the outage tolerance and sets `activeAt`:
 * - the alert was already firing (its `for` had elapsed when vigil went down): the old activeAt;
 * - less than the grace period of `for` was left: it fires a grace period after `ts`;
 * - otherwise: the old activeAt shifted by the downtime (pending time before the outage counts).
 * Rules whose `for` is shorter than the grace period are not restored. All rules end up restored.
 * Returns the number of alerts restored.
 */
export function restoreForState(rules: readonly AlertingRule[], queryable: Queryable, ts: number, opts: RestoreOptions): number {
  const logger = opts.logger ?? nopLogger;
  let restored = 0;
  const mint = ts - opts.outageToleranceMs;
  let q;
  try {
    q = queryable.querier(mint, ts);
  } catch (e) {
    logger.error('cannot restore alert for-state: querier failed', { err: errMessage(e) });
    for (const r of rules) r.setRestored(true);
    return 0;
  }
  try {
    for (const rule of rules) {
      const hold = rule.holdDuration;
      if (hold < opts.gracePeriodMs) {
        rule.setRestored(true);
        continue;
      }
      for (const a of rule.heldAlerts()) {
        if (a.state === 'inactive') continue;
        const want = forStateLabels(a.labels);
        try {
          const series = q.select({ mint, maxt: ts, matchers: want.map((l) => newMatcher('=', l.name, l.value)), sorted: false });
          let lastT = -Infinity;
          let lastV = NaN;
          for (const s of series) {
            if (s.labels.length !== want.length) continue;
            const { t, v } = s.samples();
            for (let i = t.length - 1; i >= 0; i--) {
              if (isStaleNaN(v[i]!) || Number.isNaN(v[i]!)) continue;
              if (t[i]! > lastT) {
                lastT = t[i]!;
                lastV = v[i]!;
              }
              break;
            }
          }
          if (lastT === -Infinity) continue;
          // Prometheus works in whole seconds here; vigil's ALERTS_FOR_STATE keeps milliseconds.
          const downAt = lastT;
          let activeAt = Math.round(lastV * 1000);
          const remaining = hold - (downAt - activeAt);
          if (remaining <= 0) {
            // It was firing when we went down: keep the old activeAt, fires at the next eval.
          } else if (remaining < opts.gracePeriodMs) {
            activeAt = ts + opts.gracePeriodMs - hold;
          } else {
            activeAt += ts - downAt;
          }
          a.activeAt = activeAt;
          restored++;
          logger.debug('restored alert for-state', { alert: labelsToString(a.labels), activeAt });
        } catch (e) {
          logger.warn('cannot restore alert for-state', { alert: labelsToString(a.labels), err: errMessage(e) });
        }
      }
      rule.setRestored(true);
    }
  } finally {
    q.close();
    for (const r of rules) r.setRestored(true);
  }
  return restored;
}
