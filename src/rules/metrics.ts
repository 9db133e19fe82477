/** Self-metrics of rule groups (prom-client), shared by all groups of a registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

/** What a rule group reports into. */
export interface RuleMetrics {
  iteration(group: string, durationSec: number, evalTsMs: number): void;
  missed(group: string, n: number): void;
  failure(group: string): void;
  evaluations(group: string, n: number): void;
  rules(group: string, n: number, intervalSec: number): void;
  /** Forgets a removed group's series. */
  remove(group: string): void;
}

/** Metrics sink that does nothing (no registry configured). */
export const nopRuleMetrics: RuleMetrics = {
  iteration: () => {},
  missed: () => {},
  failure: () => {},
  evaluations: () => {},
  rules: () => {},
  remove: () => {},
};

const byRegistry = new WeakMap<Registry, RuleMetrics>();

/** Registers the `vigil_rule_*` metrics in `registry` once; later calls return the same sink. */
export function ruleMetrics(registry: Registry | undefined): RuleMetrics {
  if (!registry) return nopRuleMetrics;
  const have = byRegistry.get(registry);
  if (have) return have;
  const labelNames = ['rule_group'] as const;
  const registers = [registry];
  const iterations = new Counter({ name: 'vigil_rule_group_iterations_total', help: 'Scheduled and triggered evaluations of a rule group.', labelNames, registers });
  const missed = new Counter({ name: 'vigil_rule_group_iterations_missed_total', help: 'Scheduled evaluations skipped because the previous one was still running.', labelNames, registers });
  const failures = new Counter({ name: 'vigil_rule_evaluation_failures_total', help: 'Rule evaluations that failed.', labelNames, registers });
  const evals = new Counter({ name: 'vigil_rule_evaluations_total', help: 'Rule evaluations.', labelNames, registers });
  const lastDuration = new Gauge({ name: 'vigil_rule_group_last_duration_seconds', help: 'Duration of the last evaluation of a rule group.', labelNames, registers });
  const lastEval = new Gauge({ name: 'vigil_rule_group_last_evaluation_timestamp_seconds', help: 'Timestamp of the last evaluation of a rule group.', labelNames, registers });
  const rules = new Gauge({ name: 'vigil_rule_group_rules', help: 'Number of rules in a rule group.', labelNames, registers });
  const interval = new Gauge({ name: 'vigil_rule_group_interval_seconds', help: 'Evaluation interval of a rule group.', labelNames, registers });
  const m: RuleMetrics = {
    iteration: (g, d, ts) => {
      iterations.inc({ rule_group: g });
      lastDuration.set({ rule_group: g }, d);
      lastEval.set({ rule_group: g }, ts / 1000);
    },
    missed: (g, n) => {
      if (n > 0) missed.inc({ rule_group: g }, n);
    },
    failure: (g) => failures.inc({ rule_group: g }),
    evaluations: (g, n) => {
      if (n > 0) evals.inc({ rule_group: g }, n);
    },
    rules: (g, n, i) => {
      rules.set({ rule_group: g }, n);
      interval.set({ rule_group: g }, i);
      // Make the counters visible at 0 from the start.
      iterations.inc({ rule_group: g }, 0);
      missed.inc({ rule_group: g }, 0);
      failures.inc({ rule_group: g }, 0);
    },
    remove: (g) => {
      for (const x of [iterations, missed, failures, evals, lastDuration, lastEval, rules, interval]) x.remove({ rule_group: g });
    },
  };
  byRegistry.set(registry, m);
  return m;
}
