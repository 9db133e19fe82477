/**
 * Correlation fault test with the real rule engine (issue "Correlation"): 500 alerting rules
 * (10 groups × 50) over a Head with data, every rule firing and every alert sent on every
 * evaluation (resend delay 0, the worst case for the notify path), through the same
 * `createAlerting` wiring vigil runs. Two alerting paths evaluate in interleaved rounds (ABBA
 * order, same process, same load): A without correlation (baseline), B with correlation while
 * Elasticsearch answers after 30 s (a local server that holds requests) and Jaeger refuses
 * connections (a closed port). Then Elasticsearch recovers and Jaeger listens on the same port.
 *
 * Reports: evaluation-round durations (all groups, concurrently, `evalAt`) of A and B and their
 * ratio; alerts delivered to each fake Alertmanager (every one of the 500 must arrive);
 * `vigil_correlation_breaker_state` over time (both breakers open during the fault, a probe
 * closes them after recovery and the cool-down). Prints one JSON object; bounded to < 2 min.
 */
import http from 'node:http';
import { Registry } from 'prom-client';
import { createAlerting, type Alerting } from '../src/app-alerting.js';
import { parseRuleFileText } from '../src/config/rule-files.js';
import { parseCorrelationConfig } from '../src/correlate/config.js';
import { systemClock } from '../src/model/clock.js';
import { labelsFrom } from '../src/model/labels.js';
import { nopLogger } from '../src/model/logger.js';
import { Engine } from '../src/promql/engine/index.js';
import { Head } from '../src/storage/head/index.js';
import { emit, median, percentile } from './lib.js';
import { correlationSettings, listen, startFaultyBackends } from './correlation-backends.js';

const RULES = 500;
const GROUPS = 10;
const ROUNDS = 40;
const GAP_MS = 100;
const COOLDOWN_MS = 4000;
const RECOVERY_LIMIT_MS = 30_000;

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A fake Alertmanager counting delivered alerts by alertname. */
async function fakeAm(): Promise<{ port: number; posts: () => number; alerts: () => number; names: Set<string>; close: () => void }> {
  let posts = 0;
  let alerts = 0;
  const names = new Set<string>();
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts++;
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { labels: Record<string, string> }[];
      alerts += body.length;
      for (const a of body) names.add(a.labels.alertname ?? '');
      res.end();
    });
  });
  const port = await listen(srv);
  return { port, posts: () => posts, alerts: () => alerts, names, close: () => srv.close() };
}

function headWithData(now: number): Head {
  const head = new Head({ retentionMs: 3_600_000, clock: systemClock });
  const app = head.appender();
  for (let i = 0; i < RULES; i++) {
    const l = labelsFrom({ __name__: 'app_errors', service: `svc-${i}`, namespace: 'shop', pod: `svc-${i}-7d9f` });
    for (let k = 10; k >= 0; k--) app.append(0, l, now - k * 1000, 10 + (i % 7));
  }
  void app.commit();
  return head;
}

function ruleText(): string {
  const per = RULES / GROUPS;
  let s = 'groups:\n';
  for (let g = 0; g < GROUPS; g++) {
    s += `- name: g${g}\n  interval: 1s\n  rules:\n`;
    for (let r = 0; r < per; r++) {
      const i = g * per + r;
      s += `  - alert: Errors${i}\n    expr: app_errors{service="svc-${i}"} > 5\n    labels: {severity: warning}\n    annotations: {summary: "{{ $labels.service }} has {{ $value }} errors"}\n`;
    }
  }
  return s;
}

async function breakerStates(reg: Registry): Promise<{ elasticsearch: number; jaeger: number }> {
  const m = (await reg.getSingleMetric('vigil_correlation_breaker_state')?.get())?.values ?? [];
  const v = (b: string) => m.find((x) => x.labels.backend === b)?.value ?? -1;
  return { elasticsearch: v('elasticsearch'), jaeger: v('jaeger') };
}

async function counter(reg: Registry, name: string): Promise<Record<string, number>> {
  const m = (await reg.getSingleMetric(name)?.get())?.values ?? [];
  const out: Record<string, number> = {};
  for (const x of m) out[Object.values(x.labels).join('/')] = x.value;
  return out;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  // Elasticsearch holds every request for 30 s during the fault; Jaeger refuses connections.
  const backends = await startFaultyBackends();
  const correlation = parseCorrelationConfig(correlationSettings(backends, COOLDOWN_MS))!;
  const { groups, errors } = parseRuleFileText(ruleText(), 'bench-rules.yml');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('\n'));

  const now = Date.now();
  const make = async (withCorrelation: boolean) => {
    const am = await fakeAm();
    const registry = new Registry();
    const head = headWithData(now);
    const alerting: Alerting = createAlerting({
      engine: new Engine({ lookbackDeltaMs: 300_000, clock: systemClock }),
      storage: head,
      registry,
      logger: nopLogger,
      clock: systemClock,
      externalUrl: 'http://vigil',
      resendDelayMs: 0,
      outageToleranceMs: 3_600_000,
      gracePeriodMs: 600_000,
      autoStart: false,
    });
    const amCfg = { scheme: 'http' as const, pathPrefix: '', timeout: 10_000, apiVersion: 'v2' as const, staticConfigs: [{ targets: [`127.0.0.1:${am.port}`], labels: {} }] };
    await alerting.apply({ alerting: { alertmanagers: [amCfg], alertRelabelConfigs: [] }, remoteWrite: [], externalLabels: {}, evaluationInterval: 1000, ...(withCorrelation ? { correlation } : {}) }, groups);
    return { am, registry, alerting };
  };
  const A = await make(false);
  const B = await make(true);

  const round = async (x: typeof A): Promise<number> => {
    const s = performance.now();
    await x.alerting.evalAt(Date.now());
    return performance.now() - s;
  };

  log('warm-up');
  for (let i = 0; i < 3; i++) {
    await round(A);
    await round(B);
    await sleep(GAP_MS);
  }
  log(`fault phase: ${ROUNDS} interleaved rounds`);
  const durA: number[] = [];
  const durB: number[] = [];
  const timeline: { t: number; elasticsearch: number; jaeger: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      durA.push(await round(A));
      durB.push(await round(B));
    } else {
      durB.push(await round(B));
      durA.push(await round(A));
    }
    timeline.push({ t: Date.now() - t0, ...(await breakerStates(B.registry)) });
    await sleep(GAP_MS);
  }
  const faultStates = await breakerStates(B.registry);
  const faultRequests = await counter(B.registry, 'vigil_correlation_requests_total');
  const openedDuringFault = { elasticsearch: timeline.some((x) => x.elasticsearch === 1), jaeger: timeline.some((x) => x.jaeger === 1) };

  log('recovery: Elasticsearch answers at once, Jaeger listens');
  await backends.recover();
  const recStart = Date.now();
  let closedAfterMs: number | undefined;
  const recA: number[] = [];
  const recB: number[] = [];
  while (Date.now() - recStart < RECOVERY_LIMIT_MS) {
    recA.push(await round(A));
    recB.push(await round(B));
    const st = await breakerStates(B.registry);
    timeline.push({ t: Date.now() - t0, ...st });
    if (st.elasticsearch === 0 && st.jaeger === 0) {
      closedAfterMs = Date.now() - recStart;
      break;
    }
    await sleep(250);
  }
  // Keep evaluating past one cool-down: alerts whose correlation was refused are retried then.
  const until = Date.now() + COOLDOWN_MS + 1500;
  while (Date.now() < until) {
    recA.push(await round(A));
    recB.push(await round(B));
    await sleep(250);
  }
  await B.alerting.correlator()?.idle();
  recA.push(await round(A));
  recB.push(await round(B));
  const annotated = (B.alerting.alerts() as { alerts: { annotations: Record<string, string> }[] }).alerts.filter((a) => a.annotations.logs_error_count !== undefined).length;
  const recoveredRequests = await counter(B.registry, 'vigil_correlation_requests_total');
  const evaluated = 3 + durA.length + recA.length; // the same for A and B
  await A.alerting.stop(); // flushes the notifier
  await B.alerting.stop();
  const sentA = A.am.alerts();
  const sentB = B.am.alerts();
  A.am.close();
  B.am.close();
  await backends.close();

  const medA = median(durA);
  const medB = median(durB);
  const meanA = durA.reduce((s, x) => s + x, 0) / durA.length;
  const meanB = durB.reduce((s, x) => s + x, 0) / durB.length;
  // Transitions of the breaker states over time (compressed).
  const transitions = (b: 'elasticsearch' | 'jaeger') => {
    const out: { t: number; state: number }[] = [];
    for (const x of timeline) if (out.length === 0 || out[out.length - 1]!.state !== x[b]) out.push({ t: x.t, state: x[b] });
    return out;
  };
  const result = {
    bench: 'correlation-rules',
    rules: RULES,
    groups: GROUPS,
    rounds: ROUNDS,
    round_ms: {
      baseline: { median: +medA.toFixed(2), mean: +meanA.toFixed(2), p90: +percentile(durA, 90).toFixed(2) },
      correlation_fault: { median: +medB.toFixed(2), mean: +meanB.toFixed(2), p90: +percentile(durB, 90).toFixed(2) },
      ratio_median: +(medB / medA).toFixed(3),
      ratio_mean: +(meanB / meanA).toFixed(3),
      within_10_percent: medB / medA <= 1.1,
      recovery: { baseline_median: +median(recA).toFixed(2), correlation_median: +median(recB).toFixed(2) },
    },
    delivery: {
      baseline: { distinct_alerts: A.am.names.size, alerts_posted: sentA, posts: A.am.posts(), evaluations: evaluated },
      correlation: { distinct_alerts: B.am.names.size, alerts_posted: sentB, posts: B.am.posts(), evaluations: evaluated },
      every_alert_delivered: A.am.names.size === RULES && B.am.names.size === RULES && sentA >= RULES * evaluated && sentB >= RULES * evaluated,
    },
    breakers: {
      opened_during_fault: openedDuringFault,
      state_at_end_of_fault: faultStates,
      closed_after_recovery_ms: closedAfterMs ?? null,
      cooldown_ms: COOLDOWN_MS,
      transitions: { elasticsearch: transitions('elasticsearch'), jaeger: transitions('jaeger') },
    },
    correlation_requests: { fault: faultRequests, total: recoveredRequests },
    es_requests_received: backends.esRequests(),
    alerts_annotated_after_recovery: annotated,
    total_s: +((Date.now() - t0) / 1000).toFixed(1),
  };
  emit(result);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
