/**
 * Reads the Numenta Anomaly Benchmark corpus (data/<category>/<name>.csv, labels/
 * combined_windows.json, config/profiles.json) from a NAB checkout. Files are bounded in size
 * and validated; timestamps are parsed as UTC milliseconds.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../model/errors.js';

/** One NAB data file. */
export interface NabFile {
  /** Relative path, e.g. `realKnownCause/nyc_taxi.csv` (the key in the label files). */
  readonly name: string;
  readonly category: string;
  /** Timestamps exactly as written in the CSV. */
  readonly rawTimestamps: readonly string[];
  /** Timestamps in ms (UTC). */
  readonly t: Float64Array;
  readonly values: Float64Array;
  /** Anomaly windows as [start, end] ms, inclusive, ascending. */
  readonly windows: readonly (readonly [number, number])[];
}

/** A NAB cost profile. */
export interface CostProfile {
  readonly name: string;
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
  readonly tnWeight: number;
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;

function readBounded(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new ValidationError(`NAB file ${path} not found`, { cause: e });
  }
  if (size > MAX_FILE_BYTES) throw new ValidationError(`NAB file ${path} is ${size} bytes, over ${MAX_FILE_BYTES}`);
  return readFileSync(path, 'utf8');
}

/** Parses a NAB timestamp (`2014-04-01 00:00:00[.ffffff]`) as UTC ms. */
export function parseNabTime(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(s.trim());
  if (!m) throw new ValidationError(`bad NAB timestamp ${JSON.stringify(s)}`);
  const frac = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + frac;
}

/** Parses one `timestamp,value` CSV. */
export function parseNabCsv(text: string, name: string): { raw: string[]; t: Float64Array; v: Float64Array } {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines.shift();
  if (!header || !/^timestamp,value/.test(header)) throw new ValidationError(`${name}: header must start with timestamp,value`);
  const raw: string[] = [];
  const t = new Float64Array(lines.length);
  const v = new Float64Array(lines.length);
  lines.forEach((l, i) => {
    const [ts, val] = l.split(',');
    const x = Number(val);
    if (ts === undefined || !Number.isFinite(x)) throw new ValidationError(`${name}:${i + 2}: bad row ${JSON.stringify(l)}`);
    raw.push(ts);
    t[i] = parseNabTime(ts);
    v[i] = x;
  });
  return { raw, t, v };
}

/** Loads the whole corpus (sorted by name) or the files whose name satisfies `filter`. */
export function loadNabCorpus(dir: string, filter?: (name: string) => boolean): NabFile[] {
  const windowsJson = JSON.parse(readBounded(join(dir, 'labels', 'combined_windows.json'))) as Record<string, [string, string][]>;
  const names = Object.keys(windowsJson)
    .filter((n) => !filter || filter(n))
    .sort();
  return names.map((name) => {
    const { raw, t, v } = parseNabCsv(readBounded(join(dir, 'data', name)), name);
    const windows = (windowsJson[name] ?? []).map(([a, b]) => [parseNabTime(a), parseNabTime(b)] as const).sort((x, y) => x[0] - y[0]);
    return { name, category: name.split('/')[0] ?? '', rawTimestamps: raw, t, values: v, windows };
  });
}

/** Loads the cost profiles from `config/profiles.json` (standard, reward_low_FP_rate, reward_low_FN_rate). */
export function loadProfiles(dir: string): CostProfile[] {
  const j = JSON.parse(readBounded(join(dir, 'config', 'profiles.json'))) as Record<string, { CostMatrix: Record<string, number> }>;
  return Object.entries(j).map(([name, p]) => {
    const c = p.CostMatrix;
    for (const k of ['tpWeight', 'fpWeight', 'fnWeight', 'tnWeight']) {
      if (typeof c[k] !== 'number') throw new ValidationError(`profiles.json: ${name}.CostMatrix.${k} must be a number`);
    }
    return { name, tpWeight: c.tpWeight!, fpWeight: c.fpWeight!, fnWeight: c.fnWeight!, tnWeight: c.tnWeight! };
  });
}

/** NAB's probationary length: min(floor(0.15·n), 0.15·5000). */
export function probationaryLength(n: number, percent = 0.15): number {
  return Math.min(Math.floor(percent * n), percent * 5000);
}
