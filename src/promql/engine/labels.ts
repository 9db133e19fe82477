/** Label helpers of the engine. */
import { labelsKey, METRIC_NAME, type Labels } from '../../model/labels.js';

/**
 * Labels that describe the metric itself and go away together with its name when an operation
 * changes its meaning: `__name__` and the (experimental) `__type__` / `__unit__` labels.
 */
export const METRIC_IDENTITY_LABELS: ReadonlySet<string> = new Set([METRIC_NAME, '__type__', '__unit__']);

/**
 * Results of {@link dropMetricName} per input label set. Label sets from storage are shared and
 * long-lived: the same series then yields the same output object at every evaluation (less
 * garbage; identity-keyed caches downstream hit). Entries go away with their input.
 */
const dropped = new WeakMap<Labels, Labels>();

/** A copy without `__name__`, `__type__` and `__unit__` (the input itself when it has none; memoized). */
export function dropMetricName(ls: Labels): Labels {
  const hit = dropped.get(ls);
  if (hit !== undefined) return hit;
  let found = false;
  for (const l of ls) if (METRIC_IDENTITY_LABELS.has(l.name)) found = true;
  if (!found) return ls;
  const out = ls.filter((l) => !METRIC_IDENTITY_LABELS.has(l.name));
  dropped.set(ls, out);
  return out;
}

/** {@link labelsKey} per label set, for label sets that are reused (see {@link labelsKeyOf}). */
const keys = new WeakMap<Labels, string>();

/**
 * {@link labelsKey} of `ls`, memoized by identity: cheap for label sets that come back at every
 * evaluation (storage series, {@link dropMetricName} results, rule outputs).
 */
export function labelsKeyOf(ls: Labels): string {
  let k = keys.get(ls);
  if (k === undefined) keys.set(ls, (k = labelsKey(ls)));
  return k;
}
