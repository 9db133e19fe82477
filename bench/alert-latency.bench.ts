/**
 * Sample-to-Alertmanager latency: a remote-write sample crosses a `for: 0` threshold; how long
 * until the alert's POST reaches Alertmanager (a local HTTP receiver recording arrival times)?
 * vigil with `eval_on_ingest: true` vs Prometheus 2.42 evaluating the same rule every 1 s (its
 * shortest practical interval). p50/p99 over TRIALS trials each (distinct series per trial).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeWriteRequestV1 } from '../src/ingest/remote-write/encode.js';
import { snappyCompress } from '../src/ingest/remote-write/snappy.js';
import { labelsFrom } from '../src/model/labels.js';
import { rmTemp, startPrometheus, startVigil, type Peer } from '../test/e2e/peers.js';
import { emit, percentile, progress } from './lib.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 300);
const PROM_TRIALS = Number(process.env.BENCH_PROM_TRIALS ?? 40);
const RULES = (evalOnIngest: boolean): string => `
groups:
- name: probe
  interval: ${evalOnIngest ? '1m' : '1s'}
${evalOnIngest ? '  eval_on_ingest: true\n' : ''}  rules:
  - alert: ProbeHigh
    expr: probe_value > 0.5
    labels: { severity: critical }
`;

/** A fake Alertmanager: records when each trial's alert first arrives. */
async function fakeAm(): Promise<{ port: number; arrived: Map<string, number>; close(): void }> {
  const arrived = new Map<string, number>();
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      try {
        for (const a of JSON.parse(Buffer.concat(chunks).toString()) as { labels: Record<string, string> }[]) {
          const id = a.labels.trial;
          if (id !== undefined && !arrived.has(id)) arrived.set(id, now);
        }
      } catch {
        // not an alert batch
      }
      res.end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, arrived, close: () => srv.close() };
}

async function run(target: Peer, am: { arrived: Map<string, number> }, trials: number, prefix: string): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < trials; i++) {
    const id = `${prefix}${i}`;
    const body = snappyCompress(encodeWriteRequestV1([{ labels: labelsFrom({ __name__: 'probe_value', trial: id }), samples: [{ t: Date.now(), v: 1 }] }]));
    const t0 = performance.now();
    const r = await fetch(`${target.url}/api/v1/write`, {
      method: 'POST',
      body,
      headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
    });
    await r.arrayBuffer();
    const deadline = t0 + 10_000;
    while (!am.arrived.has(id) && performance.now() < deadline) await new Promise((res) => setTimeout(res, 1));
    const at = am.arrived.get(id);
    lat.push(at === undefined ? Infinity : at - t0);
    if (i % 50 === 49) progress(`${prefix}: ${i + 1}/${trials}`);
    await new Promise((res) => setTimeout(res, 25));
  }
  return lat;
}

function summary(all: number[]): Record<string, number> {
  const lat = all.filter((x) => Number.isFinite(x));
  return {
    trials: all.length,
    lost: all.length - lat.length,
    p50_ms: Number(percentile(lat, 50).toFixed(1)),
    p90_ms: Number(percentile(lat, 90).toFixed(1)),
    p99_ms: Number(percentile(lat, 99).toFixed(1)),
    max_ms: Number(Math.max(...lat).toFixed(1)),
  };
}

const amV = await fakeAm();
const amP = await fakeAm();
const vigil = await startVigil({
  config: `rule_files: [rules.yml]\nalerting:\n  alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${amV.port}'] }] }]\n`,
  files: { 'rules.yml': RULES(true) },
});
let prom: Peer | undefined;
try {
  await run(vigil, amV, 5, 'warm'); // JIT warm-up, not counted
  const v = await run(vigil, amV, TRIALS, 'v');
  progress(`vigil p50 ${percentile(v, 50).toFixed(1)} ms, p99 ${percentile(v, 99).toFixed(1)} ms`);
  const promDir = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/vigil-bench-rules-'));
  (await import('node:fs')).writeFileSync(`${promDir}/rules.yml`, RULES(false));
  prom = await startPrometheus(
    `global: { evaluation_interval: 1s }\nrule_files: [${promDir}/rules.yml]\nalerting:\n  alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${amP.port}'] }] }]\n`,
  );
  await new Promise((r) => setTimeout(r, 1500));
  await run(prom, amP, 3, 'pwarm'); // rule group and notifier up, not counted
  const p = await run(prom, amP, PROM_TRIALS, 'p');
  rmTemp(promDir);
  emit({
    benchmark: 'sample-to-Alertmanager latency (for: 0)',
    vigil_eval_on_ingest: summary(v),
    prometheus_2_42_eval_interval_1s: summary(p),
    target_p99_ms: 100,
  });
} finally {
  await vigil.stop();
  rmTemp(vigil.dir);
  await prom?.stop();
  if (prom) rmTemp(prom.dir);
  amV.close();
  amP.close();
}
