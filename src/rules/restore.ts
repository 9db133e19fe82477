/**
 * Restores the `for` state of alerting rules after a restart from the `ALERTS_FOR_STATE` series
 * they wrote before (as Prometheus's RestoreForState).
 */
import { labelsKey, labelsToString, labelsWithout, METRIC_NAME } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { newMatcher } from '../model/matchers.js';
import { isStaleNaN } from '../model/samples.js';
import type { Queryable } from '../storage/interface.js';
import { ALERT_NAME_LABEL, ALERTS_FOR_STATE_METRIC, restoredActiveAt, type AlertingRule } from './alerting.js';
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
 * Alerts not active at `ts` (their data may still be on its way) are restored by the rule when
 * they appear, for a while ({@link DEFERRED_RESTORE_MIN_MS} or the grace period).
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
      // The last ALERTS_FOR_STATE sample of every alert of this rule, by alert label set.
      const last = new Map<string, { t: number; v: number }>();
      try {
        const series = q.select({
          mint,
          maxt: ts,
          matchers: [newMatcher('=', METRIC_NAME, ALERTS_FOR_STATE_METRIC), newMatcher('=', ALERT_NAME_LABEL, rule.name)],
          sorted: false,
        });
        for (const s of series) {
          const { t, v } = s.samples();
          for (let i = t.length - 1; i >= 0; i--) {
            if (isStaleNaN(v[i]!) || Number.isNaN(v[i]!)) continue;
            last.set(labelsKey(labelsWithout(s.labels, [METRIC_NAME])), { t: t[i]!, v: v[i]! });
            break;
          }
        }
      } catch (e) {
        logger.warn('cannot restore alert for-state', { rule: rule.name, err: errMessage(e) });
      }
      for (const a of rule.heldAlerts()) {
        if (a.state === 'inactive') continue;
        const key = labelsKey(a.labels);
        const prev = last.get(key);
        if (!prev) continue;
        last.delete(key);
        a.activeAt = restoredActiveAt(hold, prev.t, prev.v, ts, opts.gracePeriodMs);
        restored++;
        logger.debug('restored alert for-state', { alert: labelsToString(a.labels), activeAt: a.activeAt });
      }
      // Alerts whose data has not arrived yet (remote-write senders retrying after vigil's
      // restart) are restored when they first appear, within the restore window.
      if (last.size > 0) rule.deferRestore(last, ts + Math.max(opts.gracePeriodMs, DEFERRED_RESTORE_MIN_MS), opts.gracePeriodMs);
      rule.setRestored(true);
    }
  } finally {
    q.close();
    for (const r of rules) r.setRestored(true);
  }
  return restored;
}

/** How long after the first evaluation an alert that appears late can still be restored (at least). */
export const DEFERRED_RESTORE_MIN_MS = 2 * 60_000;
