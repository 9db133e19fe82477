/**
 * `sort`, `sort_desc` (by float value, NaN last, histograms dropped) and `sort_by_label`,
 * `sort_by_label_desc` (natural order of the given labels' values, then the full label set).
 * All keep the metric name. The "sort is ineffective for range queries" warning depends on the
 * query type and is the evaluator's.
 */
import { labelsCompare, labelsGet } from '../../../model/labels.js';
import type { Sample, Vector } from '../values.js';
import type { FunctionImpl } from './contract.js';
import { stringArg, vectorArg } from './util.js';

function byValue(desc: boolean): FunctionImpl {
  return (args) => {
    const floats = vectorArg(args, 0).filter((s) => s.h === undefined);
    // Stable sort: equal values keep their input order.
    return floats.sort((a, b) => {
      const an = Number.isNaN(a.f);
      const bn = Number.isNaN(b.f);
      if (an || bn) return an === bn ? 0 : an ? 1 : -1;
      return desc ? b.f - a.f : a.f - b.f;
    });
  };
}

/** `sort(v)`: ascending by value. */
export const sort: FunctionImpl = byValue(false);
/** `sort_desc(v)`: descending by value. */
export const sortDesc: FunctionImpl = byValue(true);

const CHUNK_RE = /\d+|\D+/g;

/**
 * Natural ("human") string order: runs of digits compare numerically, other runs as strings,
 * so `cpu2 < cpu10` and `1.2.3 < 1.11.3`. Equal numbers with different spellings (`01`, `1`)
 * fall back to plain string order.
 */
export function naturalCompare(a: string, b: string): number {
  if (a === b) return 0;
  const ca = a.match(CHUNK_RE) ?? [];
  const cb = b.match(CHUNK_RE) ?? [];
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x === y) continue;
    const xd = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const yd = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (xd && yd) {
      const c = compareDigits(x, y);
      if (c !== 0) return c;
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (ca.length !== cb.length) return ca.length - cb.length;
  return a < b ? -1 : 1;
}

/** Compares two digit strings numerically without converting (no precision limit). */
function compareDigits(x: string, y: string): number {
  const xs = x.replace(/^0+(?=\d)/, '');
  const ys = y.replace(/^0+(?=\d)/, '');
  if (xs.length !== ys.length) return xs.length - ys.length;
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

function byLabel(desc: boolean): FunctionImpl {
  return (args) => {
    const names: string[] = [];
    for (let i = 1; i < args.length; i++) names.push(stringArg(args, i));
    const cmp = (a: Sample, b: Sample): number => {
      for (const n of names) {
        const c = naturalCompare(labelsGet(a.metric, n), labelsGet(b.metric, n));
        if (c !== 0) return c;
      }
      return labelsCompare(a.metric, b.metric);
    };
    const out: Vector = [...vectorArg(args, 0)];
    return out.sort(desc ? (a, b) => cmp(b, a) : cmp);
  };
}

/** `sort_by_label(v, label...)`. */
export const sortByLabel: FunctionImpl = byLabel(false);
/** `sort_by_label_desc(v, label...)`. */
export const sortByLabelDesc: FunctionImpl = byLabel(true);
