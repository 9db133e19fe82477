/**
 * Correlation fault scenario (issue "Correlation"): Elasticsearch answers after 30 s (a local
 * server that holds requests) and Jaeger refuses connections, while 500 alerts request
 * correlation on every evaluation round. Measures:
 * - `request()` / `annotate()` cost per call (µs) — they must stay O(µs);
 * - event-loop delay p99 (`perf_hooks.monitorEventLoopDelay`) with and without correlation;
 * - a synthetic rule-evaluation round (CPU work + 500 request/annotate calls) vs a baseline round
 *   without correlation (the lead measures the real rule engine later);
 * - breaker transitions: both open during the fault; after recovery (fast ES answers, Jaeger
 *   listening on the same port) and the cool-down, a probe closes them.
 * Prints one JSON object.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { Correlator } from '../src/correlate/correlator.js';
import { parseCorrelationConfig } from '../src/correlate/config.js';
import { labelsFrom } from '../src/model/labels.js';
import { createLogger } from '../src/model/logger.js';
import { emit, median, percentile } from './lib.js';

const ALERTS = 500;
const ROUNDS = 25;
const ROUND_MS = 200;
const COOLDOWN_MS = 4000;

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

async function listen(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const esAnswer = JSON.stringify({
  took: 3,
  timed_out: false,
  _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
  hits: { total: { value: 10, relation: 'eq' }, max_score: null, hits: [] },
  aggregations: { errors: { doc_count: 2, top_messages: { buckets: [{ key: 'boom', doc_count: 2 }] }, first_error: { value: null }, last_error: { value: null }, trace_ids: { buckets: [] }, samples: { hits: { hits: [] } } } },
});

/** Synthetic evaluation work (~1-2 ms of CPU), deterministic. */
function evalWork(seed: number): number {
  let x = seed;
  for (let i = 0; i < 200_000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

async function main(): Promise<void> {
  // Elasticsearch that answers after 30 s (phase 1) or at once (recovery).
  let esSlow = true;
  const held = new Set<http.ServerResponse>();
  const es = http.createServer((req, res) => {
    req.resume();
    const answer = (): void => {
      held.delete(res);
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(esAnswer);
    };
    if (!esSlow) return answer();
    held.add(res);
    setTimeout(answer, 30_000).unref();
  });
  const esPort = await listen(es);
  // Jaeger: a port that refuses connections.
  const probe = http.createServer();
  const jaegerPort = await listen(probe);
  await new Promise<void>((r) => probe.close(() => r()));

  const config = parseCorrelationConfig({
    elasticsearch: { nodes: [`http://127.0.0.1:${esPort}`], index: 'logs-*' },
    jaeger: { query_url: `http://127.0.0.1:${jaegerPort}` },
    timeout: '2s',
    max_concurrent: 4,
    cache_ttl: '1m',
    breaker: { failures: 5, cooldown: `${COOLDOWN_MS}ms` },
  })!;
  const registry = new Registry();
  const c = new Correlator({ config, registry, ...(process.env.BENCH_DEBUG ? { logger: createLogger({ level: 'debug' }) } : {}) });
  const alerts = Array.from({ length: ALERTS }, (_, i) => ({
    labels: labelsFrom({ alertname: `Rule${i}`, service: `svc-${i % 50}`, namespace: 'shop', pod: `pod-${i}`, severity: 'page' }),
    annotations: labelsFrom({ summary: 's', description: 'd' }),
    activeAt: Date.now() - 60_000,
  }));

  const transitions: { t: number; backend: string; state: string }[] = [];
  const t0 = Date.now();
  const last: Record<string, string> = {};
  const watch = (): void => {
    for (const b of ['elasticsearch', 'jaeger'] as const) {
      const s = c.breakerState(b);
      if (last[b] !== s) transitions.push({ t: Date.now() - t0, backend: b, state: s });
      last[b] = s;
    }
  };

  async function rounds(withCorrelation: boolean, n: number, reqUs: number[], annUs: number[]): Promise<{ roundMs: number[]; workMs: number[]; callsMs: number[]; loopP99Ms: number; loopMaxMs: number }> {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const roundMs: number[] = [];
    const workMs: number[] = [];
    const callsMs: number[] = [];
    for (let r = 0; r < n; r++) {
      const start = performance.now();
      evalWork(r);
      const mid = performance.now();
      workMs.push(mid - start);
      if (withCorrelation) {
        for (const a of alerts) {
          const q0 = performance.now();
          c.request(a);
          const q1 = performance.now();
          c.annotate(a);
          const q2 = performance.now();
          reqUs.push((q1 - q0) * 1000);
          annUs.push((q2 - q1) * 1000);
        }
      }
      const end = performance.now();
      callsMs.push(end - mid);
      roundMs.push(end - start);
      watch();
      await new Promise((res) => setTimeout(res, ROUND_MS));
    }
    h.disable();
    return { roundMs, workMs, callsMs, loopP99Ms: h.percentile(99) / 1e6, loopMaxMs: h.max / 1e6 };
  }

  log('baseline rounds (no correlation)…');
  const base = await rounds(false, ROUNDS, [], []);
  log('fault rounds (ES 30 s, Jaeger refused)…');
  const reqUs: number[] = [];
  const annUs: number[] = [];
  const fault = await rounds(true, ROUNDS, reqUs, annUs);
  const pendingAfterFault = c.pending;

  log('recovery: ES fast, Jaeger listening; waiting for the cool-down…');
  esSlow = false;
  for (const res of held) res.destroy();
  const jaeger = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [], total: 0, limit: 0, offset: 0, errors: null }));
  });
  await listen(jaeger, jaegerPort);
  const deadline = Date.now() + COOLDOWN_MS + 6000;
  const recoveryAlerts = alerts.slice(0, 20).map((a) => ({ ...a, activeAt: a.activeAt + 1 })); // new alert instances
  while (Date.now() < deadline && (last.elasticsearch !== 'closed' || last.jaeger !== 'closed')) {
    for (const a of recoveryAlerts) c.request(a);
    watch();
    await new Promise((res) => setTimeout(res, 250));
  }
  await Promise.race([c.idle(), new Promise((r) => setTimeout(r, 3000))]);
  watch();
  log('second baseline (drift control)…');
  const base2 = await rounds(false, ROUNDS, [], []);

  const counts: Record<string, number> = {};
  for (const v of (await registry.getSingleMetric('vigil_correlation_requests_total')!.get()).values) counts[`${v.labels.backend}/${v.labels.result}`] = v.value;
  const dropped = (await registry.getSingleMetric('vigil_correlation_dropped_total')!.get()).values[0]?.value ?? 0;
  c.stop();
  es.closeAllConnections();
  jaeger.closeAllConnections();
  await Promise.all([new Promise((r) => es.close(r)), new Promise((r) => jaeger.close(r))]);

  const baseMed = median([...base.roundMs, ...base2.roundMs]);
  const faultMed = median(fault.roundMs);
  emit({
    bench: 'correlation-fault',
    alerts: ALERTS,
    rounds: ROUNDS,
    request_us: { p50: +percentile(reqUs, 50).toFixed(2), p99: +percentile(reqUs, 99).toFixed(2), max: +Math.max(...reqUs).toFixed(1) },
    annotate_us: { p50: +percentile(annUs, 50).toFixed(2), p99: +percentile(annUs, 99).toFixed(2), max: +Math.max(...annUs).toFixed(1) },
    round_ms: {
      baseline_median: +baseMed.toFixed(3),
      fault_median: +faultMed.toFixed(3),
      ratio: +(faultMed / baseMed).toFixed(3),
      work_only_baseline_median: +median([...base.workMs, ...base2.workMs]).toFixed(3),
      work_only_fault_median: +median(fault.workMs).toFixed(3),
      correlation_calls_median: +median(fault.callsMs).toFixed(3),
      note: 'synthetic round = fixed CPU work + (fault only) 500 request()+annotate() calls',
    },
    event_loop_delay_ms: { baseline_p99: +base.loopP99Ms.toFixed(2), fault_p99: +fault.loopP99Ms.toFixed(2), baseline_max: +base.loopMaxMs.toFixed(2), fault_max: +fault.loopMaxMs.toFixed(2) },
    pending_after_fault: pendingAfterFault,
    dropped,
    requests: counts,
    breaker_transitions: transitions,
    breakers_final: { elasticsearch: last.elasticsearch, jaeger: last.jaeger },
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`correlation-fault failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
