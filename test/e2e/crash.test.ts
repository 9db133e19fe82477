/**
 * Crash test: a writer sends remote-write batches while vigil is killed with SIGKILL at random
 * points (12 rounds, restarting on the same storage directory). After each restart every batch
 * that was answered 2xx must be fully present (all its series, all its samples).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWriteRequestV1 } from '../../src/ingest/remote-write/encode.js';
import { snappyCompress } from '../../src/ingest/remote-write/snappy.js';
import { labelsFrom } from '../../src/model/labels.js';
import { apiGet, freePort, rmTemp, startVigil, type Peer } from './peers.js';

const ROUNDS = 12;
const SERIES_PER_BATCH = 20;
const SAMPLES_PER_SERIES = 5;

function batchBody(id: number, baseT: number): Uint8Array {
  const series = [];
  for (let s = 0; s < SERIES_PER_BATCH; s++) {
    const samples = [];
    for (let k = 0; k < SAMPLES_PER_SERIES; k++) samples.push({ t: baseT + k * 1000, v: id * 1000 + s * 10 + k });
    series.push({ labels: labelsFrom({ __name__: 'crash_test', batch: String(id), s: String(s) }), samples });
  }
  return snappyCompress(encodeWriteRequestV1(series));
}

describe('SIGKILL during remote-write loses no acknowledged sample', () => {
  const cleanup: Peer[] = [];
  afterAll(async () => {
    for (const p of cleanup) await p.kill();
    for (const p of cleanup) rmTemp(p.dir);
  });

  it(`survives ${ROUNDS} kill -9 rounds`, async () => {
    const port = await freePort();
    let storageDir: string | undefined;
    const acked = new Set<number>();
    let nextId = 1;
    const baseT = Date.now() - 10 * 60_000;
    for (let round = 0; round < ROUNDS; round++) {
      const v = await startVigil({ config: '{}\n', port, ...(storageDir ? { storageDir } : {}) });
      cleanup.push(v);
      storageDir = v.storageDir;

      // Everything acknowledged so far must be there after the restart.
      const data = await apiGet<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        v.url,
        `/api/v1/query?query=${encodeURIComponent('count by (batch) (count_over_time(crash_test[1h]))')}&time=${(baseT + 60_000) / 1000}`,
      );
      const present = new Map(data.result.map((r) => [Number(r.metric.batch), Number(r.value[1])]));
      const missing = [...acked].filter((id) => present.get(id) !== SERIES_PER_BATCH);
      expect(missing, `round ${round}: acknowledged batches missing or incomplete after restart`).toEqual([]);
      const samples = await apiGet<{ result: { value: [number, string] }[] }>(
        v.url,
        `/api/v1/query?query=${encodeURIComponent('sum(count_over_time(crash_test[1h]))')}&time=${(baseT + 60_000) / 1000}`,
      );
      if (acked.size) expect(Number(samples.result[0]?.value[1])).toBeGreaterThanOrEqual(acked.size * SERIES_PER_BATCH * SAMPLES_PER_SERIES);

      // Write concurrently, then kill at a random moment while requests are in flight.
      let stop = false;
      const writer = async (): Promise<void> => {
        while (!stop) {
          const id = nextId++;
          try {
            const res = await fetch(`${v.url}/api/v1/write`, {
              method: 'POST',
              body: batchBody(id, baseT),
              headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
            });
            if (res.status >= 200 && res.status < 300) acked.add(id);
          } catch {
            // connection reset by the kill: not acknowledged
          }
        }
      };
      const writers = Array.from({ length: 4 }, writer);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 600));
      await v.kill();
      stop = true;
      await Promise.all(writers);
    }
    expect(acked.size).toBeGreaterThan(ROUNDS * 2);
  }, 240_000);
});
