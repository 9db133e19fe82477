/**
 * The PromQL function table: name → implementation (signatures live in the parser's table).
 *
 * Conventions the evaluator relies on (beyond `contract.ts`):
 * - Functions whose return type is `scalar` (`time`, `scalar`, `pi`, `min_of`, `max_of`)
 *   return a ONE-element vector with no labels; the evaluator takes its `f` as the scalar.
 * - Range functions receive one series per call. `absent_over_time` is the exception: it
 *   must be called once per step with ALL series of the argument (possibly an empty matrix).
 * - Optional arguments (`round`'s `to_nearest`, the calendar functions' vector) are simply
 *   missing from `args`; the implementation applies the default.
 * - Output samples carry `dropName: true` where Prometheus 3 drops `__name__` (delayed
 *   removal); `last_over_time`, `first_over_time`, `sort*` and `label_*` keep it.
 * - Query errors (bad regex, bad label name, bad smoothing factor, duplicate output label
 *   sets of `label_*`/`histogram_quantiles`) are thrown as `QueryError`; annotations go to
 *   `ctx.annotations`.
 */
import type { FunctionImpl } from './contract.js';
import { dateFunction, time, timestamp } from './date.js';
import { histogramFraction, histogramQuantile, histogramQuantiles } from './histogram-classic.js';
import { labelJoin, labelReplace } from './labels.js';
import { SIMPLE_MATH, clamp, clampMax, clampMin, mapFloats, pi, round } from './math.js';
import { absent, absentOverTime, maxOf, minOf, scalar, vector } from './misc.js';
import { histogramAvg, histogramCount, histogramStddev, histogramStdvar, histogramSum } from './native-histogram.js';
import {
  avgOverTime,
  countOverTime,
  firstOverTime,
  lastOverTime,
  madOverTime,
  maxOverTime,
  minOverTime,
  presentOverTime,
  quantileOverTime,
  stddevOverTime,
  stdvarOverTime,
  sumOverTime,
  tsOfFirstOverTime,
  tsOfLastOverTime,
  tsOfMaxOverTime,
  tsOfMinOverTime,
} from './over-time.js';
import { changes, delta, deriv, idelta, increase, irate, predictLinear, rate, resets } from './rate.js';
import { doubleExponentialSmoothingFn } from './smoothing.js';
import { sort, sortByLabel, sortByLabelDesc, sortDesc } from './sort.js';

const simple: Record<string, FunctionImpl> = {};
for (const [name, fn] of Object.entries(SIMPLE_MATH)) simple[name] = mapFloats(fn);

/** All implementations, keyed by PromQL function name. */
export const FUNCTIONS: Readonly<Record<string, FunctionImpl>> = Object.freeze({
  ...simple,
  round,
  clamp,
  clamp_min: clampMin,
  clamp_max: clampMax,
  pi,

  time,
  timestamp,
  minute: dateFunction('minute'),
  hour: dateFunction('hour'),
  day_of_week: dateFunction('day_of_week'),
  day_of_month: dateFunction('day_of_month'),
  day_of_year: dateFunction('day_of_year'),
  days_in_month: dateFunction('days_in_month'),
  month: dateFunction('month'),
  year: dateFunction('year'),

  vector,
  scalar,
  absent,
  absent_over_time: absentOverTime,
  min_of: minOf,
  max_of: maxOf,

  rate,
  increase,
  delta,
  irate,
  idelta,
  deriv,
  predict_linear: predictLinear,
  resets,
  changes,

  avg_over_time: avgOverTime,
  sum_over_time: sumOverTime,
  count_over_time: countOverTime,
  min_over_time: minOverTime,
  max_over_time: maxOverTime,
  stddev_over_time: stddevOverTime,
  stdvar_over_time: stdvarOverTime,
  mad_over_time: madOverTime,
  quantile_over_time: quantileOverTime,
  last_over_time: lastOverTime,
  first_over_time: firstOverTime,
  present_over_time: presentOverTime,
  ts_of_first_over_time: tsOfFirstOverTime,
  ts_of_last_over_time: tsOfLastOverTime,
  ts_of_min_over_time: tsOfMinOverTime,
  ts_of_max_over_time: tsOfMaxOverTime,

  double_exponential_smoothing: doubleExponentialSmoothingFn,

  histogram_quantile: histogramQuantile,
  histogram_quantiles: histogramQuantiles,
  histogram_fraction: histogramFraction,
  histogram_count: histogramCount,
  histogram_sum: histogramSum,
  histogram_avg: histogramAvg,
  histogram_stddev: histogramStddev,
  histogram_stdvar: histogramStdvar,

  label_replace: labelReplace,
  label_join: labelJoin,

  sort,
  sort_desc: sortDesc,
  sort_by_label: sortByLabel,
  sort_by_label_desc: sortByLabelDesc,
});

/**
 * Functions the evaluator implements itself because they need query-level state that the
 * function contract does not carry: `step`, `range`, `start`, `end` (query parameters),
 * `info` (looks up info series in storage), `start_timestamp` (the samples' start times).
 */
export const EVALUATOR_HANDLED: readonly string[] = Object.freeze(['step', 'range', 'start', 'end', 'info', 'start_timestamp']);

/** Names of functions whose return type is scalar (one-element vector convention above). */
export const SCALAR_RESULT: ReadonlySet<string> = new Set(['time', 'scalar', 'pi', 'min_of', 'max_of']);

export type { FunctionArg, FunctionContext, FunctionImpl } from './contract.js';
