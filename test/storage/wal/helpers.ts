/** Shared helpers of the WAL tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFields, Logger } from '../../../src/model/logger.js';
import type { WalRecord } from '../../../src/storage/wal/interface.js';

/** A fresh temp dir; remove it with {@link rmDir}. */
export function tempDir(prefix = 'vigil-wal-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a temp dir. */
export function rmDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** A samples record from parallel arrays. */
export function samplesRec(refs: number[], ts: number[], vs: number[]): WalRecord {
  const v = new Float64Array(vs.length);
  for (let i = 0; i < vs.length; i++) v[i] = vs[i]!;
  return { kind: 'samples', n: refs.length, refs: Uint32Array.from(refs), ts: Float64Array.from(ts), vs: v };
}

/** A series record with `__name__` = name and job = "j". */
export function seriesRec(...defs: [ref: number, name: string][]): WalRecord {
  return {
    kind: 'series',
    series: defs.map(([ref, name]) => ({ ref, labels: [{ name: '__name__', value: name }, { name: 'job', value: 'j' }] })),
  };
}

/** Flattens replayed samples records into `ref:t:v` strings. */
export function flatSamples(recs: readonly WalRecord[]): string[] {
  const out: string[] = [];
  for (const r of recs) if (r.kind === 'samples') for (let i = 0; i < r.n; i++) out.push(`${r.refs[i]}:${r.ts[i]}:${r.vs[i]}`);
  return out;
}

/** A logger that records warn/error lines. */
export class CaptureLogger implements Logger {
  readonly lines: { level: string; msg: string; fields?: LogFields }[] = [];
  debug(): void {}
  info(): void {}
  warn(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  with(): Logger {
    return this;
  }
}
