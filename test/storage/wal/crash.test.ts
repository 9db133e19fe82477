import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStaleNaN } from '../../../src/model/samples.js';
import { Wal } from '../../../src/storage/wal/wal.js';
import { rmDir, tempDir } from './helpers.js';

const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ROUNDS = 12;

let dir: string;
beforeAll(async () => {
  dir = await tempDir('vigil-wal-crash-');
});
afterAll(async () => {
  await rmDir(dir);
});

/** Runs the writer until it has acked some batches, then SIGKILLs it after a random delay. */
function runRound(policy: string): Promise<{ acked: number[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, policy, '32768'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let out = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked.push(Number(m[1]));
      }
      if (!armed && acked.length > 0) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), 10 + Math.floor(Math.random() * 250));
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}: ${stderr}`));
      else resolve({ acked, stderr });
    });
  });
}

describe('WAL crash safety', () => {
  it(`keeps every acknowledged batch across ${ROUNDS} kill -9 rounds`, async () => {
    const acked = new Set<number>();
    for (let r = 0; r < ROUNDS; r++) {
      const res = await runRound(r % 3 === 0 ? 'always' : r % 3 === 1 ? '1000' : 'never');
      expect(res.acked.length).toBeGreaterThan(0);
      for (const b of res.acked) acked.add(b);
    }
    const wal = await Wal.open(dir, { fsync: 'never', segmentBytes: 32768 });
    const seen = new Map<number, number>();
    let badValue = 0;
    let stale = 0;
    const stats = await wal.replay((rec) => {
      if (rec.kind !== 'samples') return;
      for (let i = 0; i < rec.n; i++) {
        const b = rec.ts[i]!;
        seen.set(b, (seen.get(b) ?? 0) + 1);
        const ref = rec.refs[i]!;
        const v = rec.vs[i]!;
        if (b % 5 === 0 && ref === 10) {
          if (isStaleNaN(v)) stale++;
          else badValue++;
        } else if (v !== b * 10 + ref - 1) badValue++;
      }
    });
    await wal.close();
    const missing = [...acked].filter((b) => seen.get(b) !== 10);
    expect(missing).toEqual([]);
    expect(badValue).toBe(0);
    expect(stale).toBeGreaterThan(0);
    // Batch ids are contiguous from 1 (each restart continues after the last replayed one).
    expect(Math.max(...seen.keys())).toBe(seen.size);
    expect(acked.size).toBeGreaterThan(ROUNDS);
    console.log(`crash test: ${ROUNDS} rounds, ${acked.size} acked batches, ${seen.size} replayed, ${stats.corrupt} torn tails at the end, ${stats.segments} files`);
  }, 90_000);
});
