/** Self-metrics of predictive rules (prom-client), shared by all rules of a registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SkipReason } from './predictive-window.js';

/** What predictive rules report into. */
export interface PredictiveMetrics {
  /** Series of `rule` that got no output this evaluation, by reason. */
  skipped(rule: string, reason: SkipReason, n: number): void;
  /** Rolling accuracy of a forecast rule at one horizon. */
  accuracy(rule: string, horizon: string, meanAbsError: number, coverage: number): void;
  /** Duration of one batched model run (seconds) and its row count. */
  inference(rule: string, seconds: number, rows: number): void;
  /** Forgets a rule's series. */
  remove(rule: string, horizons?: readonly string[]): void;
}

/** Does nothing (no registry configured). */
export const nopPredictiveMetrics: PredictiveMetrics = { skipped: () => {}, accuracy: () => {}, inference: () => {}, remove: () => {} };

const byRegistry = new WeakMap<Registry, PredictiveMetrics>();

/** Registers `vigil_predictive_*` / `vigil_forecast_*` in `registry` once; later calls return the same sink. */
export function predictiveMetrics(registry: Registry | undefined): PredictiveMetrics {
  if (!registry) return nopPredictiveMetrics;
  const have = byRegistry.get(registry);
  if (have) return have;
  const registers = [registry];
  const skipped = new Counter({
    name: 'vigil_predictive_series_skipped_total',
    help: 'Input series of a predictive rule that got no output (history: younger than the window; gap: missing or stale points; learning: anomaly score still calibrating; budget: warm-up deferred).',
    labelNames: ['rule', 'reason'],
    registers,
  });
  const absErr = new Gauge({ name: 'vigil_forecast_abs_error', help: 'Rolling mean absolute error of a forecast rule (median forecast vs actual) per horizon.', labelNames: ['rule', 'horizon'], registers });
  const coverage = new Gauge({
    name: 'vigil_forecast_band_coverage_ratio',
    help: 'Share of actual values inside the [lowest, highest] quantile band of a forecast rule, per horizon (rolling).',
    labelNames: ['rule', 'horizon'],
    registers,
  });
  const infer = new Histogram({
    name: 'vigil_predictive_inference_seconds',
    help: 'Duration of the batched model run of a predictive rule evaluation.',
    labelNames: ['rule'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const rows = new Counter({ name: 'vigil_predictive_inference_rows_total', help: 'Rows (windows) fed to models by a predictive rule.', labelNames: ['rule'], registers });
  const m: PredictiveMetrics = {
    skipped: (rule, reason, n) => {
      if (n > 0) skipped.inc({ rule, reason }, n);
    },
    accuracy: (rule, horizon, e, c) => {
      absErr.set({ rule, horizon }, e);
      coverage.set({ rule, horizon }, c);
    },
    inference: (rule, s, n) => {
      infer.observe({ rule }, s);
      rows.inc({ rule }, n);
    },
    remove: (rule, horizons = []) => {
      infer.remove({ rule });
      rows.remove({ rule });
      for (const reason of ['history', 'gap', 'learning', 'budget']) skipped.remove({ rule, reason });
      for (const horizon of horizons) {
        absErr.remove({ rule, horizon });
        coverage.remove({ rule, horizon });
      }
    },
  };
  byRegistry.set(registry, m);
  return m;
}
