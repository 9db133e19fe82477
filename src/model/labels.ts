/**
 * Label sets: immutable arrays of {name, value} sorted by name with unique names.
 * Every label set that enters storage or the engine goes through {@link labelsFrom} or is built
 * sorted by a {@link LabelsBuilder}; functions here assume that invariant.
 */

/** One label pair. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/** A sorted, name-unique label set. */
export type Labels = readonly Label[];

/** The metric name label. */
export const METRIC_NAME = '__name__';

/** The empty label set. */
export const EMPTY_LABELS: Labels = Object.freeze([]) as Labels;

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds a sorted label set from an object or an array of pairs. Empty values are dropped
 * (Prometheus treats `l=""` as the label being absent). Throws on duplicate names.
 */
export function labelsFrom(input: Record<string, string> | readonly Label[]): Labels {
  const arr: Label[] = Array.isArray(input)
    ? (input as readonly Label[]).filter((l) => l.value !== '').map((l) => ({ name: l.name, value: l.value }))
    : Object.entries(input as Record<string, string>)
        .filter(([, v]) => v !== '')
        .map(([name, value]) => ({ name, value }));
  arr.sort((a, b) => cmpStr(a.name, b.name));
  for (let i = 1; i < arr.length; i++) {
    if (arr[i]!.name === arr[i - 1]!.name) throw new Error(`duplicate label name ${JSON.stringify(arr[i]!.name)}`);
  }
  return arr;
}

/** Value of label `name`, or '' when absent. */
export function labelsGet(ls: Labels, name: string): string {
  for (const l of ls) {
    if (l.name === name) return l.value;
    if (l.name > name) break;
  }
  return '';
}

/** True when the label set has a label `name`. */
export function labelsHas(ls: Labels, name: string): boolean {
  return labelsGet(ls, name) !== '';
}

/** Structural equality. */
export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.value !== y.value) return false;
  }
  return true;
}

/** Total order over label sets, as Prometheus's labels.Compare. */
export function labelsCompare(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return cmpStr(x.name, y.name);
    if (x.value !== y.value) return cmpStr(x.value, y.value);
  }
  return a.length - b.length;
}

/**
 * A string key that is unique per label set (uses separators that cannot appear unescaped).
 * Good as a Map key; not meant for display.
 */
export function labelsKey(ls: Labels): string {
  let s = '';
  for (const l of ls) s += l.name + '\xff' + l.value + '\xfe';
  return s;
}

/** 32-bit FNV-1a hash of the label set (stable across processes). */
export function labelsHash(ls: Labels): number {
  let h = 0x811c9dc5;
  for (const l of ls) {
    h = fnvStr(h, l.name);
    h = Math.imul(h ^ 0xff, 0x01000193);
    h = fnvStr(h, l.value);
    h = Math.imul(h ^ 0xfe, 0x01000193);
  }
  return h >>> 0;
}

function fnvStr(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True for a legacy (Prometheus 2) label name. */
export function isLegacyLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}

/** Prometheus text form: `name{a="b", c="d"}` (metric name outside the braces when legacy-valid). */
export function labelsToString(ls: Labels): string {
  const name = labelsGet(ls, METRIC_NAME);
  const rest = ls.filter((l) => l.name !== METRIC_NAME);
  const quotedName = name !== '' && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name);
  const parts = rest.map((l) => `${isLegacyLabelName(l.name) ? l.name : JSON.stringify(l.name)}=${JSON.stringify(l.value)}`);
  if (quotedName) parts.unshift(JSON.stringify(name));
  if (!quotedName && parts.length === 0 && name !== '') return name;
  return `${quotedName ? '' : name}{${parts.join(', ')}}`;
}

/** Plain object form, e.g. for JSON responses. */
export function labelsToObject(ls: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of ls) o[l.name] = l.value;
  return o;
}

/** A copy without the named labels. */
export function labelsWithout(ls: Labels, names: ReadonlySet<string> | readonly string[]): Labels {
  const set = names instanceof Set ? names : new Set(names as readonly string[]);
  return ls.filter((l) => !set.has(l.name));
}

/** A copy with only the named labels. */
export function labelsKeep(ls: Labels, names: ReadonlySet<string> | readonly string[]): Labels {
  const set = names instanceof Set ? names : new Set(names as readonly string[]);
  return ls.filter((l) => set.has(l.name));
}

/**
 * Mutable builder that keeps the sorted invariant: set/del then `labels()`.
 * Setting a value to '' deletes the label.
 */
export class LabelsBuilder {
  private readonly map = new Map<string, string>();

  constructor(base: Labels = EMPTY_LABELS) {
    for (const l of base) this.map.set(l.name, l.value);
  }

  /** Sets (or with '' deletes) a label. */
  set(name: string, value: string): this {
    if (value === '') this.map.delete(name);
    else this.map.set(name, value);
    return this;
  }

  /** Deletes labels. */
  del(...names: string[]): this {
    for (const n of names) this.map.delete(n);
    return this;
  }

  /** Current value of a label, or ''. */
  get(name: string): string {
    return this.map.get(name) ?? '';
  }

  /** The sorted label set. */
  labels(): Labels {
    const out: Label[] = [];
    for (const [name, value] of this.map) out.push({ name, value });
    out.sort((a, b) => cmpStr(a.name, b.name));
    return out;
  }
}
