/**
 * The correlator: attaches what Elasticsearch logs, Jaeger traces and the head's exemplars say
 * about a firing alert to the alert, without ever delaying it.
 *
 * Use (the notifier path): for each alert about to be sent call {@link Correlator.request}
 * (starts correlation in the background; a no-op when a fresh result exists or one is under way)
 * and merge {@link Correlator.annotate} (the cached result, `undefined` until there is one) into
 * the alert's annotations. The first notification goes out without, a resend carries the result.
 *
 * The annotations attached are described in `annotations.ts`.
 *
 * Bounds: a per-backend per-alert timeout (enforced even if a client ignores its abort signal),
 * a circuit breaker per backend, `max_concurrent` alerts at a time, a bounded queue (overflow is
 * dropped and counted), a bounded TTL cache, capped response sizes.
 */
import { Registry } from 'prom-client';
import type { Clock } from '../model/clock.js';
import { systemClock } from '../model/clock.js';
import { labelsFrom } from '../model/labels.js';
import type { Logger } from '../model/logger.js';
import { nopLogger } from '../model/logger.js';
import type { Sample } from '../promql/engine/values.js';
import type { MetadataReader } from '../storage/interface.js';
import { noopTracer, type VigilSpan, type VigilTracer } from '../tracing/tracer.js';
import { BREAKER_STATE_VALUE, CircuitBreaker } from './breaker.js';
import type { CorrelationConfig } from './config.js';
import { buildAnnotations, buildSummary, type CorrelationResult } from './annotations.js';
import { BackendError, CallTimeoutError, clip, type BackendResult } from './errors.js';
import { createElasticsearchClient, ElasticsearchLogs, type EsSearchClient, type TimeWindow } from './logs.js';
import { correlationMetrics, type BackendName, type CorrelationMetrics } from './metrics.js';
import { resolveTarget, type CorrelationAlert, type CorrelationTarget } from './target.js';
import { exemplarTraceIds, JaegerTraces, type FetchFn } from './traces.js';

/** Options of {@link Correlator}. */
export interface CorrelatorOptions {
  readonly config: CorrelationConfig;
  /** Exemplar source (the head). */
  readonly storage?: MetadataReader;
  /** Elasticsearch client; created from the config when omitted. */
  readonly esClient?: EsSearchClient;
  readonly fetch?: FetchFn;
  readonly clock?: Clock;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly tracer?: VigilTracer;
  /** Max cached alerts (default 10 000). */
  readonly maxEntries?: number;
}

interface Entry {
  readonly key: string;
  readonly target: CorrelationTarget;
  activeAt: number;
  result?: CorrelationResult;
  annotations?: Record<string, string>;
  summary?: string;
  /** Queued or running. */
  busy: boolean;
  /** When the last run that stored a result finished, and whether a backend failed in it. */
  ranAt: number;
  partial: boolean;
  /** Counted in `retrying`. */
  retry?: boolean;
  parent?: VigilSpan;
}

function alertKey(labels: Readonly<Record<string, string>>, activeAt: number): string {
  const names = Object.keys(labels).sort();
  let s = String(activeAt);
  for (const n of names) s += '\xff' + n + '\xfe' + labels[n];
  return s;
}

/** See the module comment. */
export class Correlator {
  private readonly cfg: CorrelationConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly tracer: VigilTracer;
  private readonly metrics: CorrelationMetrics;
  private readonly logs?: ElasticsearchLogs;
  private readonly traces?: JaegerTraces;
  private readonly storage?: MetadataReader;
  private readonly breakers = new Map<BackendName, CircuitBreaker>();
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private readonly maxEntries: number;
  private readonly maxStale: number;
  private readonly inflight = new Set<AbortController>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = 0;
  /** Queued or running retries of partial results while no breaker is closed (at most one: it is the probe). */
  private retrying = 0;
  private stopped = false;
  private pumpScheduled = false;
  private ownedClient?: EsSearchClient;

  constructor(opts: CorrelatorOptions) {
    this.cfg = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.logger = (opts.logger ?? nopLogger).with({ component: 'correlation' });
    this.tracer = opts.tracer ?? noopTracer;
    this.metrics = correlationMetrics(opts.registry ?? new Registry());
    this.maxEntries = Math.max(1, opts.maxEntries ?? 10_000);
    this.maxStale = this.cfg.cacheTtl * 10;
    if (opts.storage) this.storage = opts.storage;
    if (this.cfg.elasticsearch) {
      const client = opts.esClient ?? createElasticsearchClient(this.cfg.elasticsearch, this.cfg.timeout);
      if (opts.esClient === undefined) this.ownedClient = client;
      this.logs = new ElasticsearchLogs(this.cfg.elasticsearch, client);
    }
    if (this.cfg.jaeger) this.traces = new JaegerTraces(this.cfg.jaeger, opts.fetch);
    for (const b of ['elasticsearch', 'jaeger'] as const) {
      const breaker = new CircuitBreaker({
        failures: this.cfg.breaker.failures,
        cooldown: this.cfg.breaker.cooldown,
        clock: this.clock,
        onChange: (from, to) => {
          this.metrics.breakerState.set({ backend: b }, BREAKER_STATE_VALUE[to]);
          const fields = { backend: b, from, consecutive_failures: breaker.failures };
          if (to === 'open') this.logger.warn(`circuit breaker ${to}`, fields);
          else this.logger.info(`circuit breaker ${to}`, fields);
        },
      });
      this.breakers.set(b, breaker);
      this.metrics.breakerState.set({ backend: b }, 0);
    }
  }

  /** The breaker state of a backend (reading it may move an open breaker to half-open). */
  breakerState(backend: BackendName): 'closed' | 'open' | 'half_open' {
    const st = this.breakers.get(backend)!.state;
    this.metrics.breakerState.set({ backend }, BREAKER_STATE_VALUE[st]);
    return st;
  }

  /**
   * Annotations to merge into the alert: the cached result (fresh, or stale up to 10×cache_ttl
   * while a refresh runs), else undefined. Never waits, never throws, does no I/O.
   */
  annotate(alert: CorrelationAlert): Record<string, string> | undefined {
    try {
      const target = resolveTarget(alert, this.cfg.labels);
      return target === undefined ? undefined : this.annotateTarget(target, alert);
    } catch (err) {
      this.logger.debug('annotate failed', { err });
      return undefined;
    }
  }

  private annotateTarget(target: CorrelationTarget, alert: CorrelationAlert): Record<string, string> | undefined {
    const e = this.entries.get(alertKey(target.labels, alert.activeAt));
    if (e?.result === undefined || e.annotations === undefined) return undefined;
    if (this.clock.now() - e.result.at > this.maxStale) return undefined;
    const out = { ...e.annotations };
    if (target.summary && e.summary !== undefined) {
      const ann = alert.annotations;
      let desc = '';
      if (Array.isArray(ann)) desc = (ann as readonly { name: string; value: string }[]).find((l) => l.name === 'description')?.value ?? '';
      else if (ann !== undefined) desc = (ann as Readonly<Record<string, string>>).description ?? '';
      out.description = desc === '' ? e.summary : `${desc}\n\n${e.summary}`;
    }
    return out;
  }

  /**
   * Starts correlating `alert` in the background (no-op when opted out, already queued or
   * running, or a result younger than cache_ttl exists). Never waits, never throws. `parent`
   * makes the correlation spans children of the caller's span.
   */
  request(alert: CorrelationAlert, parent?: VigilSpan): void {
    try {
      if (!this.active()) return;
      const target = resolveTarget(alert, this.cfg.labels);
      if (target !== undefined) this.requestTarget(target, alert.activeAt, parent);
    } catch (err) {
      this.logger.warn('correlation request failed', { err });
    }
  }

  /**
   * {@link request} (when `request` is true) and {@link annotate} in one step, resolving the
   * alert's target once (the notify path calls this for every alert it sends). Never throws.
   */
  attach(alert: CorrelationAlert, request: boolean, parent?: VigilSpan): Record<string, string> | undefined {
    try {
      const target = resolveTarget(alert, this.cfg.labels);
      if (target === undefined) return undefined;
      if (request && this.active()) this.requestTarget(target, alert.activeAt, parent);
      return this.annotateTarget(target, alert);
    } catch (err) {
      this.logger.debug('correlation attach failed', { err });
      return undefined;
    }
  }

  /** Whether a configured backend's breaker is closed. */
  private anyBreakerClosed(): boolean {
    if (this.logs !== undefined && this.breakers.get('elasticsearch')!.state === 'closed') return true;
    if (this.traces !== undefined && this.breakers.get('jaeger')!.state === 'closed') return true;
    return false;
  }

  private active(): boolean {
    return !this.stopped && (this.logs !== undefined || this.traces !== undefined || this.storage !== undefined);
  }

  private requestTarget(target: CorrelationTarget, activeAt: number, parent: VigilSpan | undefined): void {
    const key = alertKey(target.labels, activeAt);
    let e = this.entries.get(key);
    if (e !== undefined) {
      if (e.busy) return;
      // A partial result (a backend failed) is retried sooner: after min(cache_ttl, breaker cool-down).
      const fresh = e.partial ? Math.min(this.cfg.cacheTtl, this.cfg.breaker.cooldown) : this.cfg.cacheTtl;
      if (e.ranAt > 0 && this.clock.now() - e.ranAt < fresh) return;
    }
    // While no backend breaker is closed, retrying every partial result after the cool-down
    // would only be refused again (one probe passes a half-open breaker): one retry at a time.
    let retry = false;
    if (e?.partial && !this.anyBreakerClosed()) {
      if (this.retrying > 0) return;
      retry = true;
    }
    if (this.queue.length >= this.cfg.maxQueue) {
      this.metrics.dropped.inc();
      return;
    }
    if (e === undefined) {
      e = { key, target, activeAt, busy: false, ranAt: 0, partial: false };
      this.entries.set(key, e);
      this.evict();
    }
    e.busy = true;
    if (retry) {
      this.retrying++;
      e.retry = true;
    }
    if (parent) e.parent = parent;
    else delete e.parent;
    this.queue.push(e);
    this.metrics.queueLength.set(this.queue.length);
    this.schedulePump();
  }

  /** The latest result for an alert (tests, API), or undefined. */
  result(alert: CorrelationAlert): CorrelationResult | undefined {
    const target = resolveTarget(alert, this.cfg.labels);
    return target && this.entries.get(alertKey(target.labels, alert.activeAt))?.result;
  }

  /**
   * Series for export, one per correlated alert and backend: `vigil_alert_correlated_log_errors`
   * and `vigil_alert_correlated_error_traces`, labelled with the alert's labels, at `ts`.
   */
  series(ts: number = this.clock.now()): Sample[] {
    const out: Sample[] = [];
    for (const e of this.entries.values()) {
      const r = e.result;
      if (r === undefined || ts - r.at > this.maxStale) continue;
      try {
        if (r.logs) out.push({ metric: labelsFrom({ ...e.target.labels, __name__: 'vigil_alert_correlated_log_errors' }), t: ts, f: r.logs.errors });
        if (r.traces) out.push({ metric: labelsFrom({ ...e.target.labels, __name__: 'vigil_alert_correlated_error_traces' }), t: ts, f: r.traces.errorCount });
      } catch {
        /* a label set that cannot be built is skipped */
      }
    }
    return out;
  }

  /** Resolves when nothing is queued or running (tests, benchmarks, shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Number of queued plus running correlations. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  /** Stops: drops the queue, aborts running calls, closes the Elasticsearch client it created. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ownedClient?.close().catch(() => {});
    for (const e of this.queue) {
      e.busy = false;
      e.retry = false;
    }
    this.retrying = 0;
    this.queue.length = 0;
    this.metrics.queueLength.set(0);
    for (const c of this.inflight) c.abort(new Error('correlator stopped'));
    this.notifyIdle();
  }

  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    // Oldest first (refreshed entries are re-inserted at the end); running/queued ones stay.
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (!e.busy) this.entries.delete(k);
    }
  }

  private notifyIdle(): void {
    if (this.running !== 0 || this.queue.length !== 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Starts queued work on a later turn, so `request()` itself does no client work at all. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.stopped && this.running < this.cfg.maxConcurrent && this.queue.length > 0) {
      const e = this.queue.shift()!;
      this.running++;
      this.metrics.inFlight.set(this.running);
      this.metrics.queueLength.set(this.queue.length);
      this.run(e)
        .catch((err: unknown) => this.logger.warn('correlation failed', { err, alertname: e.target.alertname }))
        .finally(() => {
          e.busy = false;
          if (e.retry) {
            e.retry = false;
            this.retrying = Math.max(0, this.retrying - 1);
          }
          this.running--;
          this.metrics.inFlight.set(this.running);
          this.pump();
          this.notifyIdle();
        });
    }
  }

  private async run(e: Entry): Promise<void> {
    const now = this.clock.now();
    const start = Number.isFinite(e.activeAt) && e.activeAt > 0 && e.activeAt <= now ? e.activeAt : now;
    const w: TimeWindow = { from: start - this.cfg.window, to: now };
    const span = this.tracer.startSpan('correlate', { ...(e.parent ? { childOf: e.parent } : {}), tags: { alertname: e.target.alertname, service: e.target.service } });
    delete e.parent;
    const prev = e.result;
    const reuse = (at: number | undefined): boolean => at !== undefined && now - at < this.cfg.cacheTtl;
    try {
      const logsP = this.logs && !reuse(prev?.logsAt) ? this.call('elasticsearch', this.logs.applies(e.target), span, (signal, headers) => this.logs!.correlate(e.target, w, { signal, headers, timeout: this.cfg.timeout, maxResponseBytes: this.cfg.maxResponseBytes })) : undefined;
      const tracesP = this.traces && !reuse(prev?.tracesAt) ? this.call('jaeger', this.traces.applies(e.target), span, (signal, headers) => this.traces!.correlate(e.target, w, { signal, headers, maxResponseBytes: this.cfg.maxResponseBytes })) : undefined;
      const exemplars = this.storage ? exemplarTraceIds(this.storage, e.target.labels, this.cfg.exemplarLabels, w) : [];
      const [lo, to] = await Promise.all([logsP, tracesP]);
      const logs = lo?.value;
      const traces = to?.value;
      // Nothing learned because a backend failed or was refused: keep the previous result (if
      // any) and its age, so the next request retries instead of caching an empty answer.
      const failed = lo?.outcome === 'failed' || to?.outcome === 'failed' || lo?.outcome === 'refused' || to?.outcome === 'refused';
      if (failed && logs === undefined && traces === undefined && exemplars.length === 0) {
        // Only refused by open breakers: nothing can change before a cool-down, so do not
        // re-queue this alert on every request until then.
        if (lo?.outcome !== 'failed' && to?.outcome !== 'failed') {
          e.ranAt = this.clock.now();
          e.partial = true;
        }
        return;
      }
      const done = this.clock.now();
      const result: CorrelationResult = {
        window: w,
        ...(logs !== undefined ? { logs, logsAt: done } : prev?.logs ? { logs: prev.logs, ...(prev.logsAt !== undefined ? { logsAt: prev.logsAt } : {}) } : {}),
        ...(traces !== undefined ? { traces, tracesAt: done } : prev?.traces ? { traces: prev.traces, ...(prev.tracesAt !== undefined ? { tracesAt: prev.tracesAt } : {}) } : {}),
        exemplarTraceIds: exemplars.length > 0 ? exemplars : (prev?.exemplarTraceIds ?? []),
        at: done,
      };
      if (this.stopped) return;
      e.result = result;
      e.ranAt = done;
      e.partial = failed;
      e.annotations = buildAnnotations(result);
      const summary = buildSummary(result, this.cfg.window);
      if (summary !== undefined) e.summary = summary;
      // Keep recently refreshed entries at the end of the map (eviction goes oldest first).
      this.entries.delete(e.key);
      this.entries.set(e.key, e);
    } finally {
      span.finish();
    }
  }

  /** One backend call with breaker, timeout, metrics and a span. Never rejects. */
  private async call<T>(
    backend: BackendName,
    applies: boolean,
    parent: VigilSpan,
    fn: (signal: AbortSignal, headers: Record<string, string>) => Promise<T>,
  ): Promise<{ outcome: 'ok' | 'skipped' | 'failed' | 'refused'; value?: T }> {
    const count = (result: BackendResult): void => this.metrics.requests.inc({ backend, result });
    if (!applies) {
      count('skipped');
      return { outcome: 'skipped' };
    }
    const permit = this.breakers.get(backend)!.tryAcquire();
    this.metrics.breakerState.set({ backend }, BREAKER_STATE_VALUE[this.breakers.get(backend)!.state]);
    if (permit === undefined) {
      count('breaker_open');
      return { outcome: 'refused' };
    }
    const span = this.tracer.startSpan(`correlate.${backend}`, { childOf: parent });
    const headers = this.tracer.inject(span, {});
    const ctl = new AbortController();
    this.inflight.add(ctl);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new CallTimeoutError(`${backend}: no answer within ${this.cfg.timeout}ms`);
        ctl.abort(err);
        reject(new BackendError(`${backend}: timed out after ${this.cfg.timeout}ms`, 'timeout', undefined, { cause: err }));
      }, this.cfg.timeout);
    });
    const t0 = performance.now();
    const work = fn(ctl.signal, headers);
    work.catch(() => {}); // a late rejection after the timeout must not be unhandled
    try {
      const v = await Promise.race([work, timeout]);
      permit.success();
      count('success');
      span.setTag('result', 'success');
      return { outcome: 'ok', value: v };
    } catch (err) {
      const be = err instanceof BackendError ? err : new BackendError(`${backend}: ${clip(String((err as Error)?.message ?? err))}`, 'error', undefined, { cause: err });
      if (be.breaker) permit.failure();
      else permit.success();
      count(be.result);
      span.setTag('result', be.result).fail(be);
      const fields = { backend, result: be.result, reason: be.message };
      if (be.result === 'not_found') this.logger.info('correlation call found nothing', fields);
      else this.logger.warn('correlation call failed', fields);
      return { outcome: be.result === 'not_found' ? 'skipped' : 'failed' };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ctl);
      this.metrics.duration.observe({ backend }, (performance.now() - t0) / 1000);
      this.metrics.breakerState.set({ backend }, BREAKER_STATE_VALUE[this.breakers.get(backend)!.state]);
      span.finish();
    }
  }
}
