/**
 * Turns a forecaster's `[N, H, Q]` output into output series: `<name>{<input labels minus
 * __name__>, horizon="<h>", quantile="<q>"}`, one value each. Label objects of the horizon and
 * quantile are shared between series (one array allocation per output series); labels stay
 * sorted by name as the head requires.
 */
import type { Label, Labels } from '../model/labels.js';

/** Output series of one evaluation (parallel arrays). */
export interface OutputSeries {
  readonly labels: Labels[];
  readonly values: Float64Array;
}

function insertSorted(base: readonly Label[], extra: readonly Label[]): Label[] {
  const out: Label[] = [];
  let j = 0;
  for (const l of base) {
    while (j < extra.length && extra[j]!.name < l.name) out.push(extra[j++]!);
    if (j < extra.length && extra[j]!.name === l.name) continue; // our labels win
    out.push(l);
  }
  while (j < extra.length) out.push(extra[j++]!);
  return out;
}

/**
 * Builds forecast output series. `forecast` is `[inputs.length, horizons.length,
 * quantiles.length]`; `horizons`/`quantiles` are the label values (e.g. "1h", "0.9").
 */
export function forecastOutputs(name: string, inputs: readonly Labels[], forecast: Float32Array, horizons: readonly string[], quantiles: readonly string[]): OutputSeries {
  const H = horizons.length;
  const Q = quantiles.length;
  const nameLabel: Label = { name: '__name__', value: name };
  const hl = horizons.map((value) => ({ name: 'horizon', value }));
  const ql = quantiles.map((value) => ({ name: 'quantile', value }));
  const byName = (a: Label, b: Label): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const extras = hl.flatMap((h) => ql.map((q) => [nameLabel, h, q].sort(byName)));
  const labels: Labels[] = new Array<Labels>(inputs.length * H * Q);
  const values = new Float64Array(inputs.length * H * Q);
  let k = 0;
  for (let i = 0; i < inputs.length; i++) {
    const base = inputs[i]!.filter((l) => l.name !== '__name__' && l.name !== 'horizon' && l.name !== 'quantile');
    for (let h = 0; h < H; h++) {
      for (let q = 0; q < Q; q++) {
        labels[k] = insertSorted(base, extras[h * Q + q]!);
        values[k] = forecast[k]!;
        k++;
      }
    }
  }
  return { labels, values };
}
