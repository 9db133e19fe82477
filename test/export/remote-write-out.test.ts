import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelabelConfig, RemoteWriteConfig } from '../../src/config/types.js';
import { RemoteWriteSender, type RemoteWriteSenderOptions } from '../../src/export/remote-write-out.js';
import { FakeClock } from '../../src/model/clock.js';
import { labelsFrom } from '../../src/model/labels.js';
import { STALE_NAN } from '../../src/model/samples.js';
import type { FetchLike } from '../../src/notify/http-client.js';
import type { Sample } from '../../src/promql/engine/values.js';
import { decodeWriteRequest, STALE_BITS, type DecodedSeries } from './decode-write-request.js';

interface Req {
  readonly at: number;
  readonly headers: Record<string, string>;
  readonly series: DecodedSeries[];
}

type Reply = number | 'network' | { status: number; headers: Record<string, string> };

function fake(reply: (i: number) => Reply = () => 200): { fetch: FetchLike; reqs: Req[] } {
  const reqs: Req[] = [];
  const fetch: FetchLike = async (_url, init) => {
    reqs.push({ at: Date.now(), headers: init.headers, series: decodeWriteRequest(init.body as Uint8Array) });
    const r = reply(reqs.length - 1);
    if (r === 'network') throw new TypeError('fetch failed');
    const { status, headers } = typeof r === 'number' ? { status: r, headers: {} } : r;
    return new Response('', { status, headers });
  };
  return { fetch, reqs };
}

const rwConfig = (extra: Partial<RemoteWriteConfig> = {}): RemoteWriteConfig => ({ url: 'http://rw.test/api/v1/write', name: '', remoteTimeout: 1000, headers: {}, writeRelabelConfigs: [], ...extra });
const smp = (labels: Record<string, string>, t: number, f: number): Sample => ({ metric: labelsFrom(labels), t, f });
const relabelCfg = (c: Partial<RelabelConfig>): RelabelConfig => ({ sourceLabels: [], separator: ';', regex: '(.*)', modulus: 0, targetLabel: '', replacement: '$1', action: 'replace', ...c });

const live: RemoteWriteSender[] = [];
afterEach(async () => {
  for (const s of live.splice(0)) await s.stop();
});

function sender(opts: Partial<RemoteWriteSenderOptions> & Pick<RemoteWriteSenderOptions, 'fetch'>): { s: RemoteWriteSender; registry: Registry } {
  const registry = new Registry();
  const s = new RemoteWriteSender({ configs: [rwConfig()], registry, batchSendDeadlineMs: 20, backoff: { initialMs: 1, maxMs: 4, random: () => 0 }, ...opts });
  live.push(s);
  return { s, registry };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const data = await registry.getSingleMetric(name)!.get();
  return data.values.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value ?? 0;
}

const flat = (reqs: Req[]): string[] => reqs.flatMap((r) => r.series.flatMap((s) => s.samples.map((x) => `${s.labels.__name__}{${s.labels.i ?? ''}}@${x.t}=${x.v}`)));

describe('RemoteWriteSender', () => {
  it('sends 1.0 requests with protocol headers, custom headers and auth; labels, values and timestamps exact', async () => {
    const { fetch, reqs } = fake();
    const { s, registry } = sender({ fetch, configs: [rwConfig({ headers: { 'X-Scope-OrgID': 'team-a' }, bearerToken: 'tok' })], externalLabels: { cluster: 'c1', job: 'ext' } });
    s.publish('g', 5000, [smp({ __name__: 'rec', job: 'j' }, 5000, 1.5), smp({ __name__: 'rec', job: 'k' }, 5000, -0.25)]);
    await s.flush(2000);
    expect(reqs).toHaveLength(1);
    const h = reqs[0]!.headers;
    expect(h['Content-Encoding']).toBe('snappy');
    expect(h['Content-Type']).toBe('application/x-protobuf');
    expect(h['X-Prometheus-Remote-Write-Version']).toBe('0.1.0');
    expect(h['X-Scope-OrgID']).toBe('team-a');
    expect(h.Authorization).toBe('Bearer tok');
    expect(reqs[0]!.series).toEqual([
      { labels: { __name__: 'rec', cluster: 'c1', job: 'j' }, samples: [{ t: 5000, v: 1.5, bits: '3ff8000000000000' }], histograms: 0 },
      { labels: { __name__: 'rec', cluster: 'c1', job: 'k' }, samples: [{ t: 5000, v: -0.25, bits: 'bfd0000000000000' }], histograms: 0 },
    ]);
    expect(await metric(registry, 'vigil_remote_write_out_samples_total', { url: 'http://rw.test/api/v1/write' })).toBe(2);
  });

  it('applies write_relabel_configs per URL and counts relabel drops', async () => {
    const { fetch, reqs } = fake();
    const { s, registry } = sender({
      fetch,
      configs: [rwConfig({ writeRelabelConfigs: [relabelCfg({ action: 'drop', sourceLabels: ['__name__'], regex: 'noisy.*' }), relabelCfg({ targetLabel: 'via', replacement: 'vigil' })] })],
    });
    s.publish('g', 1000, [smp({ __name__: 'noisy_x' }, 1000, 1), smp({ __name__: 'kept' }, 1000, 2)]);
    await s.flush(2000);
    expect(reqs.flatMap((r) => r.series.map((x) => x.labels))).toEqual([{ __name__: 'kept', via: 'vigil' }]);
    expect(await metric(registry, 'vigil_remote_write_out_samples_dropped_total', { reason: 'relabel' })).toBe(1);
  });

  it('batches up to max_samples_per_send; a partial batch waits for the deadline', async () => {
    const { fetch, reqs } = fake();
    const { s } = sender({ fetch, maxSamplesPerSend: 3, batchSendDeadlineMs: 150 });
    const t0 = Date.now();
    s.publish('g', 1000, Array.from({ length: 7 }, (_, i) => smp({ __name__: 'm', i: String(i) }, 1000, i)));
    await new Promise((r) => setTimeout(r, 60));
    expect(reqs.map((r) => r.series.length)).toEqual([3, 3]);
    for (let i = 0; i < 50 && reqs.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(reqs.map((r) => r.series.length)).toEqual([3, 3, 1]);
    expect(reqs[2]!.at - t0).toBeGreaterThanOrEqual(140);
  });

  it('retries 5xx, 429 and network errors with backoff, keeping order; drops on other 4xx', async () => {
    const script: Reply[] = [500, 'network', 429, 200, 400, 200];
    const { fetch, reqs } = fake((i) => script[i] ?? 200);
    const { s, registry } = sender({ fetch, maxSamplesPerSend: 2 });
    s.publish('g', 1000, [smp({ __name__: 'a' }, 1000, 1), smp({ __name__: 'b' }, 1000, 2)]);
    await s.flush(2000);
    s.publish('g2', 2000, [smp({ __name__: 'c' }, 2000, 3)]);
    await s.flush(2000);
    s.publish('g3', 3000, [smp({ __name__: 'd' }, 3000, 4)]);
    await s.flush(2000);
    expect(reqs.map((r) => r.series.map((x) => x.labels.__name__).join(','))).toEqual(['a,b', 'a,b', 'a,b', 'a,b', 'c', 'd']);
    const url = { url: 'http://rw.test/api/v1/write' };
    expect(await metric(registry, 'vigil_remote_write_out_retries_total', url)).toBe(3);
    expect(await metric(registry, 'vigil_remote_write_out_samples_failed_total', url)).toBe(6);
    expect(await metric(registry, 'vigil_remote_write_out_samples_dropped_total', { ...url, reason: 'rejected' })).toBe(1);
    expect(await metric(registry, 'vigil_remote_write_out_samples_total', url)).toBe(3);
  });

  it('respects Retry-After', async () => {
    const { fetch, reqs } = fake((i) => (i === 0 ? { status: 503, headers: { 'Retry-After': '1' } } : 200));
    const { s } = sender({ fetch });
    s.publish('g', 1000, [smp({ __name__: 'a' }, 1000, 1)]);
    await s.flush(5000);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('sends stale markers from the rule output and for series that vanish or whose group is dropped', async () => {
    const { fetch, reqs } = fake();
    const clock = new FakeClock(9000);
    const { s } = sender({ fetch, clock });
    s.publish('g', 1000, [smp({ __name__: 'm', i: 'a' }, 1000, 1), smp({ __name__: 'm', i: 'b' }, 1000, 2), smp({ __name__: 'm', i: 'c' }, 1000, STALE_NAN)]);
    s.publish('g', 2000, [smp({ __name__: 'm', i: 'a' }, 2000, 3)]); // b vanished; c was already stale
    s.publish('g', 3000, [smp({ __name__: 'm', i: 'a' }, 3000, 4)]); // b not marked twice
    s.drop('g');
    await s.flush(2000);
    const all = reqs.flatMap((r) => r.series.flatMap((x) => x.samples.map((p) => ({ i: x.labels.i, t: p.t, stale: p.bits === STALE_BITS }))));
    expect(all.filter((x) => x.stale).sort((p, q) => p.t - q.t)).toEqual([
      { i: 'c', t: 1000, stale: true },
      { i: 'b', t: 2000, stale: true },
      { i: 'a', t: 9000, stale: true },
    ]);
    expect(flat(reqs).filter((x) => !x.endsWith('NaN'))).toEqual(['m{a}@1000=1', 'm{a}@2000=3', 'm{a}@3000=4', 'm{b}@1000=2']);
  });

  it('drops the oldest samples when the queue overflows while the receiver is down', async () => {
    let up = false;
    const { fetch, reqs } = fake(() => (up ? 200 : 503));
    const { s, registry } = sender({ fetch, queueCapacity: 4, maxSamplesPerSend: 10 });
    for (let t = 1; t <= 6; t++) s.publish('g', t * 1000, [smp({ __name__: 'm' }, t * 1000, t)]);
    expect(s.queueLengths()).toEqual({ 'http://rw.test/api/v1/write': 4 });
    expect(await metric(registry, 'vigil_remote_write_out_samples_dropped_total', { reason: 'queue_full' })).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    up = true;
    await s.flush(2000);
    const ok = reqs.at(-1)!;
    expect(ok.series[0]!.samples.map((p) => p.v)).toEqual([3, 4, 5, 6]);
  });

  it('sends native-histogram results as histograms and drops __name__ when dropName is set', async () => {
    const { fetch, reqs } = fake();
    const { s } = sender({ fetch });
    const h = { counterResetHint: 0, schema: 0, zeroThreshold: 0, zeroCount: 0, count: 3, sum: 4.5, positiveSpans: [{ offset: 0, length: 1 }], negativeSpans: [], positiveBuckets: [3], negativeBuckets: [] } as const;
    s.publish('g', 1000, [{ metric: labelsFrom({ __name__: 'hist' }), t: 1000, f: 0, h }, { metric: labelsFrom({ __name__: 'gone', a: 'x' }), t: 1000, f: 1, dropName: true }]);
    await s.flush(2000);
    expect(reqs[0]!.series.map((x) => [x.labels, x.samples.length, x.histograms])).toEqual([
      [{ __name__: 'hist' }, 0, 1],
      [{ a: 'x' }, 1, 0],
    ]);
  });

  it('rejects an invalid URL at construction', () => {
    expect(() => new RemoteWriteSender({ configs: [rwConfig({ url: 'ftp://x/' })] })).toThrow(/must be http or https/);
    expect(() => new RemoteWriteSender({ configs: [rwConfig({ url: 'nope' })] })).toThrow(/invalid url/);
  });
});
