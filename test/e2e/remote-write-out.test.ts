/**
 * Remote-write out into a real Prometheus 2.42 receiver: series arrive with exact values and
 * millisecond timestamps, stale markers end a series, and samples published while Prometheus
 * is down are retried and arrive after it restarts on the same port (same data directory).
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteWriteSender } from '../../src/export/remote-write-out.js';
import { labelsFrom } from '../../src/model/labels.js';
import type { Sample } from '../../src/promql/engine/values.js';
import { apiGet, havePeer, rmTemp, startPrometheus, type Peer } from './peers.js';

const HAVE = havePeer('prometheus');
const PROM_CONFIG = 'global:\n  scrape_interval: 1m\n';

type Matrix = { result: { metric: Record<string, string>; values: [number, string][] }[] };
type VectorResult = { result: { metric: Record<string, string>; value: [number, string] }[] };

const smp = (labels: Record<string, string>, t: number, f: number): Sample => ({ metric: labelsFrom(labels), t, f });

/** Raw samples of `selector` in the 10 minutes before `atMs`, as [ms, value] pairs per series key. */
async function raw(prom: Peer, selector: string, atMs: number): Promise<Map<string, [number, number][]>> {
  const data = await apiGet<Matrix>(prom.url, `/api/v1/query?query=${encodeURIComponent(`${selector}[10m]`)}&time=${atMs / 1000}`);
  const out = new Map<string, [number, number][]>();
  for (const s of data.result) out.set(s.metric.k ?? '', s.values.map(([t, v]) => [Math.round(t * 1000), Number(v)]));
  return out;
}

describe.skipIf(!HAVE)('remote-write out → real Prometheus 2.42 receiver', () => {
  let prom: Peer;
  let sender: RemoteWriteSender;
  const registry = new Registry();

  beforeAll(async () => {
    prom = await startPrometheus(PROM_CONFIG);
    sender = new RemoteWriteSender({
      configs: [{ url: `${prom.url}/api/v1/write`, name: 'e2e', remoteTimeout: 5000, headers: {}, writeRelabelConfigs: [] }],
      externalLabels: { vigil: 'e2e' },
      batchSendDeadlineMs: 100,
      maxSamplesPerSend: 500,
      backoff: { initialMs: 50, maxMs: 500 },
      registry,
    });
  }, 60_000);

  afterAll(async () => {
    await sender?.stop();
    await prom?.stop();
    if (prom) rmTemp(prom.dir);
  });

  it('series arrive with exact values and millisecond timestamps; stale markers end a series', async () => {
    const base = Math.floor(Date.now() / 1000) * 1000 - 120_000 + 7; // odd ms on purpose
    const values = [0.1, -2.5e-300, 1234567.891, 42];
    for (let i = 0; i < values.length; i++) {
      const t = base + i * 15_001;
      sender.publish('grp', t, [smp({ __name__: 'rw_out_exact', k: 'a' }, t, values[i]!), smp({ __name__: 'rw_out_exact', k: 'b' }, t, i)]);
    }
    // 'b' vanishes from the group's output → a stale marker at tEnd.
    const tEnd = base + values.length * 15_001;
    sender.publish('grp', tEnd, [smp({ __name__: 'rw_out_exact', k: 'a' }, tEnd, 7)]);
    await sender.flush(10_000);
    expect(sender.queueLengths()[`${prom.url}/api/v1/write`]).toBe(0);

    const got = await raw(prom, 'rw_out_exact{vigil="e2e"}', tEnd + 1);
    expect(got.get('a')).toEqual([...values.map((v, i) => [base + i * 15_001, v]), [tEnd, 7]]);
    expect(got.get('b')).toEqual(values.map((_v, i) => [base + i * 15_001, i])); // the stale marker is not a raw value

    // Instant queries: 'b' exists just before the marker, and is gone right after it.
    const before = await apiGet<VectorResult>(prom.url, `/api/v1/query?query=rw_out_exact&time=${(tEnd - 1) / 1000}`);
    const after = await apiGet<VectorResult>(prom.url, `/api/v1/query?query=rw_out_exact&time=${(tEnd + 1000) / 1000}`);
    expect(before.result.map((r) => r.metric.k).sort()).toEqual(['a', 'b']);
    expect(after.result.map((r) => r.metric.k)).toEqual(['a']);
  }, 30_000);

  it('retries while Prometheus is down and delivers after it restarts on the same port', async () => {
    const url = `${prom.url}/api/v1/write`;
    await prom.stop();
    const base = Date.now() - 30_000;
    for (let i = 0; i < 5; i++) sender.publish('outage', base + i * 1000, [smp({ __name__: 'rw_out_outage', k: 'x' }, base + i * 1000, i * 10)]);
    await new Promise((r) => setTimeout(r, 1000));
    const retries = await registry.getSingleMetric('vigil_remote_write_out_retries_total')!.get();
    expect(retries.values.find((v) => v.labels.url === url)?.value ?? 0).toBeGreaterThan(0);
    expect(sender.queueLengths()[url]).toBe(5);

    prom = await startPrometheus(PROM_CONFIG, [], { port: prom.port, dir: prom.dir });
    await sender.flush(20_000);
    expect(sender.queueLengths()[url]).toBe(0);
    const got = await raw(prom, 'rw_out_outage', base + 5000);
    expect(got.get('x')).toEqual([0, 1, 2, 3, 4].map((i) => [base + i * 1000, i * 10]));
    const dropped = await registry.getSingleMetric('vigil_remote_write_out_samples_dropped_total')!.get();
    expect(dropped.values.reduce((s, v) => s + v.value, 0)).toBe(0);
  }, 60_000);
});
