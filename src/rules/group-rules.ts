/**
 * Turning a group's rule configs into runnable rules, and the identities used to carry state
 * over a reload: separate from `group.ts`, which runs the rules, because construction depends
 * only on the config and the group's dependencies, never on evaluation state.
 */
import type { Clock } from '../model/clock.js';
import type { Logger } from '../model/logger.js';
import { AlertingRule } from './alerting.js';
import { AnomalyRule } from './anomaly.js';
import { ForecastRule } from './forecast.js';
import type { GroupDeps } from './group.js';
import { registryFor, type PredictiveRuleOptions } from './predictive-base.js';
import { predictiveMetrics } from './predictive-metrics.js';
import { RecordingRule } from './recording.js';
import { ruleConfigName, type Rule, type RuleConfig, type RuleGroupConfig } from './rule.js';

/** A forecast or anomaly rule. */
export type PredictiveRule = ForecastRule | AnomalyRule;

/** True for forecast and anomaly rules. */
export function isPredictive(r: Rule): r is PredictiveRule {
  return r instanceof ForecastRule || r instanceof AnomalyRule;
}

/** Identity of a rule for state carry-over on reload: kind, name, labels and expression. */
export function ruleIdentity(r: RuleConfig): string {
  const labels = Object.entries(r.labels).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const id: unknown[] = [r.kind, ruleConfigName(r), labels, r.expr];
  if (r.kind === 'forecast') id.push(r.model, r.step, r.horizons, r.quantiles);
  else if (r.kind === 'anomaly') id.push(r.model, r.step);
  return JSON.stringify(id);
}

/** Comparable form of a group config (positions ignored). */
export function groupConfigFingerprint(cfg: RuleGroupConfig, defaultIntervalMs: number): string {
  const { pos: _p, rules, ...rest } = cfg;
  return JSON.stringify({ ...rest, interval: cfg.interval || defaultIntervalMs, rules: rules.map(({ pos: _rp, ...r }) => r) });
}

/** What {@link makeGroupRule} needs from the group. */
export interface GroupRuleContext {
  /** The group's labels (a rule's own labels win). */
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly deps: GroupDeps;
  /** The group's logger. */
  readonly logger: Logger;
  readonly clock: Clock;
  /** The group restores alert `for` state after its first evaluation. */
  readonly restore: boolean;
}

/** A runnable rule for `rc` in a group. */
export function makeGroupRule(rc: RuleConfig, g: GroupRuleContext): Rule {
  const labels = { ...g.groupLabels, ...rc.labels };
  switch (rc.kind) {
    case 'recording':
      return new RecordingRule({ ...rc, labels });
    case 'alerting':
      return new AlertingRule(
        { ...rc, labels },
        {
          resendDelayMs: g.deps.resendDelayMs,
          ...(g.deps.templater ? { templater: g.deps.templater } : {}),
          // As Prometheus: `for` state is only restored for rules whose `for` is at least the grace period.
          restored: !(g.restore && rc.for >= g.deps.gracePeriodMs && rc.for > 0),
          logger: g.logger,
        },
      );
    case 'forecast':
      return new ForecastRule({ ...rc, labels }, predictiveOptions(g));
    case 'anomaly':
      return new AnomalyRule({ ...rc, labels }, predictiveOptions(g));
    default: {
      const never: never = rc;
      throw new Error(`unknown rule kind ${JSON.stringify(never)}`);
    }
  }
}

function predictiveOptions(g: GroupRuleContext): PredictiveRuleOptions {
  const { deps, logger } = g;
  const p = deps.predictive;
  return {
    models: registryFor(p, logger),
    source: {
      ...(deps.queryable ? { queryable: deps.queryable } : {}),
      ...(deps.queryRange ? { queryRange: deps.queryRange } : {}),
    },
    metrics: predictiveMetrics(deps.registry),
    logger,
    clock: g.clock,
    ...(p?.maxSeries !== undefined ? { maxSeries: p.maxSeries } : {}),
    ...(p?.trainer ? { trainer: p.trainer } : {}),
    ...(p?.loadBytes ? { loadBytes: p.loadBytes } : {}),
  };
}
