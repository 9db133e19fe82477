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
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { Correlator } from '../src/correlate/correlator.js';
import { parseCorrelationConfig } from '../src/correlate/config.js';
import { labelsFrom } from '../src/model/labels.js';
import { createLogger } from '../src/model/logger.js';
import { emit, median, percentile } from './lib.js';
import { correlationSettings, startFaultyBackends } from './correlation-backends.js';

const ALERTS = 500;
const ROUNDS = 25;
const ROUND_MS = 200;
const COOLDOWN_MS = 4000;

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

/** Synthetic evaluation work (~1-2 ms of CPU), deterministic. */
function evalWork(seed: number): number {
  let x = seed;
  for (let i = 0; i < 200_000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

async function main(): Promise<void> {
  const backends = await startFaultyBackends();
  const config = parseCorrelationConfig(correlationSettings(backends, COOLDOWN_MS))!;
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
  await backends.recover();
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
  await backends.close();

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
