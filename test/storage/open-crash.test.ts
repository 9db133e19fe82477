import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/model/clock.js';
import { newMatcher } from '../../src/model/matchers.js';
import { openStorage } from '../../src/storage/open.js';
import { BASE, SERIES } from './wal/open-crash-writer.js';
import { rmDir, tempDir } from './wal/helpers.js';

const writer = fileURLToPath(new URL('./wal/open-crash-writer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 10;

let dir: string;
beforeAll(async () => {
  dir = await tempDir('vigil-open-crash-');
});
afterAll(async () => {
  await rmDir(dir);
});

function runRound(policy: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, policy], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let out = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const m = /^ack (\d+)$/.exec(out.slice(0, nl));
        out = out.slice(nl + 1);
        if (m) acked.push(Number(m[1]));
      }
      if (!armed && acked.length > 0) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), 20 + Math.floor(Math.random() * 300));
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code}: ${stderr}`));
      else resolve(acked);
    });
  });
}

describe('storage crash safety (WAL + head)', () => {
  it(`every committed sample is queryable after ${ROUNDS} kill -9 restarts`, async () => {
    const acked = new Set<number>();
    for (let r = 0; r < ROUNDS; r++) {
      const got = await runRound(r % 2 === 0 ? '1000' : 'always');
      expect(got.length).toBeGreaterThan(0);
      for (const b of got) acked.add(b);
    }
    const st = await openStorage({ dir, retentionMs: 30 * 86_400_000, clock: new FakeClock(BASE + 10_000_000), fsync: 'never' });
    const q = st.head.querier(0, Number.MAX_SAFE_INTEGER);
    const series = q.select({ mint: 0, maxt: Number.MAX_SAFE_INTEGER, matchers: [newMatcher('=', '__name__', 'crash')] });
    expect(series).toHaveLength(SERIES);
    for (const s of series) {
      const d = s.samples();
      const have = new Map<number, number>();
      for (let i = 0; i < d.t.length; i++) have.set(d.t[i]! - BASE, d.v[i]!);
      const missing = [...acked].filter((b) => have.get(b) !== b);
      expect(missing).toEqual([]);
    }
    q.close();
    console.log(`storage crash test: ${ROUNDS} rounds, ${acked.size} acked commits, replay ${JSON.stringify(st.replay)}`);
    await st.close();
  }, 90_000);
});
