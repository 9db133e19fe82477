/**
 * `vigil query --storage.path DIR`: evaluates a query against a local WAL without a running
 * vigil. The WAL is only read (newest checkpoint, then the segments after it) — never
 * repaired, truncated or written — so it is safe next to a running vigil.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Engine } from '../src/promql/engine/index.js';
import { formatValue } from '../src/promql/engine/format.js';
import { Head } from '../src/storage/head/index.js';
import { checkpointFiles } from '../src/storage/wal/checkpoint.js';
import { decodeRecord } from '../src/storage/wal/records.js';
import { checkpointName, parseCheckpointName, parseSegmentName, scanSegment, segmentName } from '../src/storage/wal/segment.js';

/** Result of {@link localQuery}: the API `data` object plus annotations and replay notes. */
export interface LocalQueryResult {
  readonly data: { resultType: string; result: unknown };
  readonly warnings: readonly string[];
  /** Problems met while reading the WAL (corrupt tails are expected while vigil writes). */
  readonly notes: readonly string[];
}

/** Replays `<dir>/wal` read-only into an in-memory head and runs an instant query at `ts` (ms). */
export async function localQuery(dir: string, query: string, ts: number, timeoutMs = 120_000): Promise<LocalQueryResult> {
  const walDir = path.join(dir, 'wal');
  let names: string[];
  try {
    names = await readdir(walDir);
  } catch (e) {
    throw new Error(`cannot read WAL directory ${walDir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`, { cause: e });
  }
  const checkpoints = names.flatMap((n) => (n.endsWith('.tmp') ? [] : [parseCheckpointName(n)])).filter((n): n is number => n !== null);
  const cp = checkpoints.length > 0 ? Math.max(...checkpoints) : null;
  const segments = names
    .map(parseSegmentName)
    .filter((n): n is number => n !== null && (cp === null || n > cp))
    .sort((a, b) => a - b);
  // Ten years: nothing in a WAL is rejected as too old by the read-only head.
  const head = new Head({ retentionMs: 10 * 365 * 86_400_000 });
  const notes: string[] = [];
  const onFrame = (type: number, payload: Buffer): void => head.replayRecord(decodeRecord(type, payload));
  const files = [...(cp === null ? [] : await checkpointFiles(path.join(walDir, checkpointName(cp)))), ...segments.map((s) => path.join(walDir, segmentName(s)))];
  for (const f of files) {
    try {
      const res = await scanSegment(f, onFrame);
      if (res.corruption) notes.push(`${path.basename(f)}: stopped at offset ${res.corruption.offset}: ${res.corruption.reason}`);
    } catch (e) {
      notes.push(`${path.basename(f)}: ${(e as Error).message}`);
    }
  }
  try {
    const engine = new Engine({ timeoutMs });
    const r = await engine.instantQuery(head, query, ts);
    return { data: formatValue(r.value), warnings: [...r.warnings, ...r.infos], notes };
  } finally {
    await head.close();
  }
}
