/**
 * Alertmanager API v2 notifier (model: Prometheus `notifier/`): `send()` applies external labels
 * and `alert_relabel_configs`, enqueues into a bounded queue (oldest dropped on overflow) and
 * returns; one background loop POSTs batches as JSON to every configured Alertmanager. A batch is
 * delivered when at least one Alertmanager answers 2xx. Unlike Prometheus, a failed batch is
 * not dropped: it stays at the front of the queue and is retried with exponential backoff, so
 * an Alertmanager outage of minutes loses no alert (unless the queue overflows meanwhile).
 */
import { Registry } from 'prom-client';
import type { AlertmanagerConfig, RelabelConfig } from '../config/types.js';
import { systemClock, type Clock } from '../model/clock.js';
import { labelsFrom, labelsToObject, type Labels } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { compileRelabel, type CompiledRelabel } from '../model/relabel.js';
import type { Alert, NotifyFunc } from '../rules/rule.js';
import { createPoster, redactURL, type FetchLike, type PostFunc } from './http-client.js';
import { notifierMetrics, type NotifierMetrics } from './metrics.js';
import type { AmAlert, Notifier } from './notifier.js';
import { Backoff, BoundedQueue, sleep, Waker, type BackoffOptions } from './queue.js';
import { noopTracer, type VigilSpan, type VigilTracer } from '../tracing/tracer.js';

/** Default queue capacity (alerts), as Prometheus's `--alertmanager.notification-queue-capacity`. */
export const DEFAULT_QUEUE_CAPACITY = 10_000;
/** Default batch size, as Prometheus's `maxBatchSize`. */
export const DEFAULT_BATCH_SIZE = 64;

/** Options of {@link AlertmanagerNotifier}. */
export interface AlertmanagerNotifierOptions {
  readonly alertmanagers: readonly AlertmanagerConfig[];
  readonly alertRelabelConfigs?: readonly RelabelConfig[];
  /** Added to every alert that lacks the label (alert labels win). */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** Max queued alerts (default {@link DEFAULT_QUEUE_CAPACITY}); the oldest are dropped beyond. */
  readonly queueCapacity?: number;
  /** Max alerts per POST (default {@link DEFAULT_BATCH_SIZE}). */
  readonly batchSize?: number;
  /** Retry backoff (default 100 ms doubling to 10 s, equal jitter). */
  readonly backoff?: BackoffOptions;
  /** prom-client registry for the `vigil_notifications_*` metrics (a private one by default). */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Used to measure POST latency. */
  readonly clock?: Clock;
  /** Replaces `node:http(s)` (tests). TLS settings are then ignored. */
  readonly fetch?: FetchLike;
  /**
   * Self-tracing: one `notify.send` span per batch with a `notify.post` child per Alertmanager
   * (whose context goes out in the `uber-trace-id` header). Default: no spans.
   */
  readonly tracer?: VigilTracer;
}

/** One Alertmanager endpoint. */
interface Target {
  /** `<scheme>://<host:port><path_prefix>/api/v2/alerts`. */
  readonly url: string;
  /** Metric label: the URL without credentials. */
  readonly label: string;
  readonly timeoutMs: number;
  readonly post: PostFunc;
}

function normalizePrefix(p: string): string {
  const s = p.replace(/\/+$/, '');
  return s === '' || s.startsWith('/') ? s : `/${s}`;
}

/** The v2 alerts URLs of one `alertmanagers` entry (one per static target). */
export function alertmanagerURLs(cfg: AlertmanagerConfig): string[] {
  const prefix = normalizePrefix(cfg.pathPrefix);
  return cfg.staticConfigs.flatMap((sc) => sc.targets.map((t) => `${cfg.scheme}://${t}${prefix}/api/v2/alerts`));
}

function rfc3339(ms: number): string {
  return ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

/**
 * Converts rule alerts to Alertmanager alerts as Prometheus's `sendAlerts` and the Alert
 * Generator spec do: `startsAt` = FiredAt, `endsAt` = ResolvedAt when resolved, else ValidUntil.
 * Times of 0 become '' (and are omitted from the JSON body).
 */
export function toAmAlerts(alerts: readonly Alert[], generatorURL: (a: Alert) => string): AmAlert[] {
  return alerts.map((a) => ({
    labels: labelsToObject(a.labels),
    annotations: labelsToObject(a.annotations),
    startsAt: rfc3339(a.firedAt),
    endsAt: rfc3339(a.resolvedAt !== 0 ? a.resolvedAt : a.validUntil),
    generatorURL: generatorURL(a),
  }));
}

/** A {@link NotifyFunc} for the rule manager that converts and enqueues into `notifier`. */
export function makeNotifyFunc(notifier: Notifier): NotifyFunc {
  return (alerts, meta) => {
    if (alerts.length === 0) return;
    notifier.send(toAmAlerts(alerts, meta.generatorURL));
  };
}

/** The JSON body of a batch; empty optional fields are omitted (Alertmanager rejects '' times). */
export function encodeAlerts(alerts: readonly AmAlert[]): string {
  return JSON.stringify(
    alerts.map((a) => {
      const o: Record<string, unknown> = { labels: a.labels, annotations: a.annotations };
      if (a.startsAt !== '') o.startsAt = a.startsAt;
      if (a.endsAt !== '') o.endsAt = a.endsAt;
      if (a.generatorURL !== '') o.generatorURL = a.generatorURL;
      return o;
    }),
  );
}

/** Sends alerts to Alertmanager(s); see the module comment. */
export class AlertmanagerNotifier implements Notifier {
  private readonly queue: BoundedQueue<AmAlert>;
  private readonly targets: Target[];
  private readonly relabel: CompiledRelabel;
  private readonly external: Labels;
  private readonly batchSize: number;
  private readonly backoff: Backoff;
  private readonly metrics: NotifierMetrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly tracer: VigilTracer;
  private readonly waker = new Waker();
  private readonly stopCtl = new AbortController();
  private readonly idleWaiters = new Set<() => void>();
  private loop: Promise<void> | undefined;
  private stopped = false;

  /** Throws a ValidationError for an invalid relabel regex (config errors surface at load). */
  constructor(opts: AlertmanagerNotifierOptions) {
    this.queue = new BoundedQueue(opts.queueCapacity ?? DEFAULT_QUEUE_CAPACITY);
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
    this.relabel = compileRelabel(opts.alertRelabelConfigs ?? []);
    this.external = labelsFrom({ ...(opts.externalLabels ?? {}) });
    this.backoff = new Backoff(opts.backoff);
    this.metrics = notifierMetrics(opts.registry ?? new Registry());
    this.logger = (opts.logger ?? nopLogger).with({ component: 'notifier' });
    this.clock = opts.clock ?? systemClock;
    this.tracer = opts.tracer ?? noopTracer;
    this.targets = opts.alertmanagers.flatMap((cfg) => {
      const post = createPoster(cfg, opts.fetch !== undefined ? { fetch: opts.fetch } : {});
      return alertmanagerURLs(cfg).map((url) => ({ url, label: redactURL(url), timeoutMs: cfg.timeout > 0 ? cfg.timeout : 10_000, post }));
    });
    this.metrics.queueCapacity.set(this.queue.capacity);
    this.metrics.discovered.set(this.targets.length);
    this.metrics.queueLength.set(0);
  }

  /** Number of queued alerts (tests, API). */
  get queueLength(): number {
    return this.queue.length;
  }

  /** The Alertmanager URLs alerts are POSTed to. */
  alertmanagers(): string[] {
    return this.targets.map((t) => t.label);
  }

  /** Applies external labels and relabeling, enqueues, and wakes the sender. Never throws. */
  send(alerts: readonly AmAlert[]): void {
    if (this.stopped || this.targets.length === 0 || alerts.length === 0) return;
    const out: AmAlert[] = [];
    for (const a of alerts) {
      const labels = this.prepareLabels(a.labels);
      if (labels === null) continue;
      out.push({ ...a, labels });
    }
    if (out.length === 0) return;
    const dropped = this.queue.push(out);
    if (dropped > 0) {
      this.metrics.dropped.inc(dropped);
      this.logger.warn('notification queue full, dropped oldest alerts', { dropped, capacity: this.queue.capacity });
    }
    this.metrics.queueLength.set(this.queue.length);
    this.loop ??= this.run();
    this.waker.wake();
  }

  private prepareLabels(obj: Readonly<Record<string, string>>): Record<string, string> | null {
    try {
      const merged: Record<string, string> = {};
      for (const l of this.external) merged[l.name] = l.value;
      for (const [k, v] of Object.entries(obj)) if (v !== '') merged[k] = v;
      const ls = this.relabel(labelsFrom(merged));
      if (ls === null || ls.length === 0) return null;
      return labelsToObject(ls);
    } catch (err) {
      this.logger.warn('dropping malformed alert', { err });
      return null;
    }
  }

  /** Waits until the queue is empty (everything delivered or dropped) or `timeoutMs` passes. */
  async flush(timeoutMs = 30_000): Promise<void> {
    if (this.queue.length === 0 || this.stopped) return;
    await new Promise<void>((res) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        res();
      }
      this.idleWaiters.add(() => done());
    });
  }

  /** Stops the sender loop (aborting an in-flight POST); queued alerts are discarded. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopCtl.abort();
    this.waker.wake();
    await this.loop;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const ws = [...this.idleWaiters];
    this.idleWaiters.clear();
    for (const w of ws) w();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.queue.length === 0) {
          this.notifyIdle();
          await this.waker.wait();
          continue;
        }
        const batch = this.queue.peek(this.batchSize);
        const outcome = await this.sendAll(batch.items);
        if (this.stopped) break;
        if (outcome !== 'retry') {
          const n = this.queue.ack(batch.lastSeq);
          if (outcome === 'rejected') {
            this.metrics.dropped.inc(n);
            this.logger.error('every Alertmanager rejected the batch as invalid (4xx), dropping it', { alerts: n });
          }
          this.metrics.queueLength.set(this.queue.length);
          this.backoff.reset();
        } else {
          const delay = this.backoff.next();
          this.logger.warn('no Alertmanager accepted the batch, will retry', { alerts: batch.items.length, retryInMs: delay, failures: this.backoff.failures });
          await sleep(delay, this.stopCtl.signal);
        }
      } catch (err) {
        // Unreachable in practice: keep the loop alive whatever happens.
        this.logger.error('notifier loop error', { err });
        await sleep(this.backoff.next(), this.stopCtl.signal);
      }
    }
  }

  /**
   * POSTs one batch to every Alertmanager in parallel: 'ok' when at least one accepted it,
   * 'rejected' when all answered a permanent 4xx (the batch can never succeed), else 'retry'.
   */
  private async sendAll(batch: readonly AmAlert[]): Promise<Outcome> {
    const body = encodeAlerts(batch);
    const span = this.tracer.enabled ? this.tracer.startSpan('notify.send', { tags: { alerts: batch.length, alertmanagers: this.targets.length } }) : undefined;
    const results = await Promise.all(this.targets.map((t) => this.sendOne(t, body, batch.length, span)));
    const outcome: Outcome = results.includes('ok') ? 'ok' : results.every((r) => r === 'rejected') ? 'rejected' : 'retry';
    if (span) {
      span.setTag('outcome', outcome);
      if (outcome !== 'ok') span.setTag('error', true);
      span.finish();
    }
    return outcome;
  }

  private async sendOne(t: Target, body: string, n: number, parent?: VigilSpan): Promise<Outcome> {
    const start = this.clock.now();
    const span = parent ? this.tracer.startSpan('notify.post', { childOf: parent, tags: { alertmanager: t.label, alerts: n } }) : undefined;
    try {
      const headers = this.tracer.inject(span, { 'Content-Type': 'application/json' });
      const res = await t.post({ url: t.url, headers, body, timeoutMs: t.timeoutMs, signal: this.stopCtl.signal });
      span?.setTag('http.status_code', res.status);
      if (span && (res.status < 200 || res.status >= 300)) span.setTag('error', true);
      this.metrics.latency.observe({ alertmanager: t.label }, Math.max(0, this.clock.now() - start) / 1000);
      if (res.status >= 200 && res.status < 300) {
        this.metrics.sent.inc({ alertmanager: t.label }, n);
        return 'ok';
      }
      this.metrics.errors.inc({ alertmanager: t.label }, n);
      this.logger.warn('Alertmanager did not accept alerts', { alertmanager: t.label, status: res.status, body: res.body.slice(0, 512) });
      return isPermanent(res.status) ? 'rejected' : 'retry';
    } catch (err) {
      span?.fail(err);
      this.metrics.latency.observe({ alertmanager: t.label }, Math.max(0, this.clock.now() - start) / 1000);
      if (!this.stopped) {
        this.metrics.errors.inc({ alertmanager: t.label }, n);
        this.logger.warn('error sending alerts', { alertmanager: t.label, err });
      }
      return 'retry';
    } finally {
      span?.finish();
    }
  }
}

type Outcome = 'ok' | 'retry' | 'rejected';

/** 4xx answers that retrying cannot fix (408 and 429 are transient). */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
