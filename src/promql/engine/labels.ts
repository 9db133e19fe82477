/** Label helpers of the engine. */
import { METRIC_NAME, type Labels } from '../../model/labels.js';

/**
 * Labels that describe the metric itself and go away together with its name when an operation
 * changes its meaning: `__name__` and the (experimental) `__type__` / `__unit__` labels.
 */
export const METRIC_IDENTITY_LABELS: ReadonlySet<string> = new Set([METRIC_NAME, '__type__', '__unit__']);

/** A copy without `__name__`, `__type__` and `__unit__`. */
export function dropMetricName(ls: Labels): Labels {
  let found = false;
  for (const l of ls) if (METRIC_IDENTITY_LABELS.has(l.name)) found = true;
  return found ? ls.filter((l) => !METRIC_IDENTITY_LABELS.has(l.name)) : ls;
}
