/**
 * Remote-write out (protocol 1.0): sends the synthesized series of every group evaluation to
 * each `remote_write` URL. One bounded queue and one sender loop per URL (no sharding): a batch
 * goes out when it reaches `maxSamplesPerSend` or when its oldest sample waited
 * `batchSendDeadlineMs`. 5xx, 429 and network errors are retried with exponential backoff
 * (honouring `Retry-After`), keeping order; other non-2xx answers drop the batch. Stale
 * markers are sent, including ones this sender synthesizes for series that vanished from a
 * group's output or whose group was dropped.
 */
import { Registry } from 'prom-client';
import type { RemoteWriteConfig } from '../config/types.js';
import { encodeWriteRequestV1, snappyCompress, type EncodeSeries } from '../ingest/remote-write/encode.js';
import { systemClock, type Clock } from '../model/clock.js';
import { ValidationError } from '../model/errors.js';
import type { FloatHistogram } from '../model/histogram.js';
import { labelsFrom, labelsKey, labelsWithout, METRIC_NAME, type Labels } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { compileRelabel, type CompiledRelabel } from '../model/relabel.js';
import { isStaleNaN, STALE_NAN } from '../model/samples.js';
import { createPoster, parseRetryAfter, redactURL, type FetchLike, type PostFunc } from '../notify/http-client.js';
import { Backoff, BoundedQueue, sleep, Waker, type BackoffOptions } from '../notify/queue.js';
import type { Sample } from '../promql/engine/values.js';
import type { SeriesSink } from '../rules/rule.js';
import { remoteWriteOutMetrics, type RemoteWriteOutMetrics } from './metrics.js';

/** Defaults, as Prometheus's `queue_config` where it has one. */
export const RW_DEFAULTS = Object.freeze({
  queueCapacity: 100_000,
  maxSamplesPerSend: 2000,
  batchSendDeadlineMs: 5000,
  minBackoffMs: 30,
  maxBackoffMs: 5000,
  maxRetryAfterMs: 60_000,
  timeoutMs: 30_000,
});

/** Options of {@link RemoteWriteSender}. */
export interface RemoteWriteSenderOptions {
  readonly configs: readonly RemoteWriteConfig[];
  /** Added to every series that lacks the label, before `write_relabel_configs`. */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /** Max queued samples per URL; the oldest are dropped beyond (default 100,000). */
  readonly queueCapacity?: number;
  /** Max samples per request (default 2000). */
  readonly maxSamplesPerSend?: number;
  /** Max time a sample waits for its batch to fill (default 5 s). */
  readonly batchSendDeadlineMs?: number;
  /** Retry backoff (default 30 ms doubling to 5 s, equal jitter). */
  readonly backoff?: BackoffOptions;
  /** Upper bound on a `Retry-After` wait (default 60 s). */
  readonly maxRetryAfterMs?: number;
  /** Send stale markers for series that vanish from a group's output (default true). */
  readonly markStale?: boolean;
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Timestamps of stale markers for dropped groups, and `Retry-After` dates. */
  readonly clock?: Clock;
  /** Replaces `node:http(s)` (tests). */
  readonly fetch?: FetchLike;
}

/** One queued sample. */
interface QSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
  readonly h?: FloatHistogram;
}

/** Outcome of one request. */
type SendResult = { readonly kind: 'ok' } | { readonly kind: 'drop'; readonly status: number } | { readonly kind: 'retry'; readonly retryAfterMs?: number };

/** Groups a batch into remote-write series (first-appearance order, samples in arrival order). */
export function toWriteSeries(batch: readonly QSample[]): EncodeSeries[] {
  const byKey = new Map<string, { labels: Labels; samples: { t: number; v: number }[]; histograms: { t: number; h: FloatHistogram }[] }>();
  for (const s of batch) {
    const k = labelsKey(s.labels);
    let e = byKey.get(k);
    if (e === undefined) byKey.set(k, (e = { labels: s.labels, samples: [], histograms: [] }));
    if (s.h !== undefined) e.histograms.push({ t: s.t, h: s.h });
    else e.samples.push({ t: s.t, v: s.v });
  }
  return [...byKey.values()].map((e) => ({ labels: e.labels, samples: e.samples, histograms: e.histograms }));
}

/** The queue and sender loop of one URL. */
class UrlSender {
  readonly label: string;
  private readonly queue: BoundedQueue<QSample>;
  private readonly relabel: CompiledRelabel;
  private readonly post: PostFunc;
  private readonly waker = new Waker();
  private readonly backoff: Backoff;
  private readonly idle = new Set<() => void>();
  private firstPendingAt: number | undefined;
  private flushing = 0;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly cfg: RemoteWriteConfig,
    private readonly o: Required<Pick<RemoteWriteSenderOptions, 'maxSamplesPerSend' | 'batchSendDeadlineMs' | 'maxRetryAfterMs'>> & {
      readonly queueCapacity: number;
      readonly backoff: BackoffOptions;
      readonly fetch?: FetchLike;
    },
    private readonly metrics: RemoteWriteOutMetrics,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly stopSignal: AbortSignal,
  ) {
    this.label = redactURL(cfg.url);
    this.queue = new BoundedQueue(o.queueCapacity);
    this.relabel = compileRelabel(cfg.writeRelabelConfigs);
    this.post = createPoster(cfg, o.fetch !== undefined ? { fetch: o.fetch } : {});
    this.backoff = new Backoff(o.backoff);
    this.metrics.queueLength.set({ url: this.label }, 0);
  }

  get length(): number {
    return this.queue.length;
  }

  enqueue(samples: readonly QSample[]): void {
    const out: QSample[] = [];
    let relabeled = 0;
    for (const s of samples) {
      const ls = this.relabel(s.labels);
      if (ls === null || ls.length === 0) relabeled++;
      else out.push(ls === s.labels ? s : { ...s, labels: ls });
    }
    if (relabeled > 0) this.metrics.dropped.inc({ url: this.label, reason: 'relabel' }, relabeled);
    if (out.length === 0) return;
    const wasEmpty = this.queue.length === 0;
    const dropped = this.queue.push(out);
    if (dropped > 0) {
      this.metrics.dropped.inc({ url: this.label, reason: 'queue_full' }, dropped);
      this.logger.warn('remote-write queue full, dropped oldest samples', { url: this.label, dropped });
    }
    this.metrics.queueLength.set({ url: this.label }, this.queue.length);
    if (wasEmpty) this.firstPendingAt = performance.now();
    this.loop ??= this.run();
    if (wasEmpty || this.queue.length >= this.o.maxSamplesPerSend) this.waker.wake();
  }

  async flush(timeoutMs: number): Promise<void> {
    if (this.queue.length === 0) return;
    this.flushing++;
    this.waker.wake();
    try {
      await new Promise<void>((res) => {
        const timer = setTimeout(done, timeoutMs);
        timer.unref();
        function done(): void {
          clearTimeout(timer);
          res();
        }
        this.idle.add(done);
      });
    } finally {
      this.flushing--;
    }
  }

  async stop(): Promise<void> {
    this.waker.wake();
    await this.loop;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const ws = [...this.idle];
    this.idle.clear();
    for (const w of ws) w();
  }

  private async run(): Promise<void> {
    const stopped = (): boolean => this.stopSignal.aborted;
    while (!stopped()) {
      try {
        if (this.queue.length === 0) {
          this.firstPendingAt = undefined;
          this.notifyIdle();
          await this.waker.wait();
          continue;
        }
        const age = performance.now() - (this.firstPendingAt ?? 0);
        if (this.queue.length < this.o.maxSamplesPerSend && age < this.o.batchSendDeadlineMs && this.flushing === 0) {
          await this.waker.wait(this.o.batchSendDeadlineMs - age);
          continue;
        }
        const batch = this.queue.peek(this.o.maxSamplesPerSend);
        const res = await this.send(batch.items);
        if (stopped()) break;
        if (res.kind === 'retry') {
          this.metrics.failed.inc({ url: this.label }, batch.items.length);
          this.metrics.retries.inc({ url: this.label });
          const delay = Math.min(res.retryAfterMs ?? this.backoff.next(), this.o.maxRetryAfterMs);
          await sleep(delay, this.stopSignal);
          continue;
        }
        const n = this.queue.ack(batch.lastSeq);
        if (res.kind === 'ok') this.metrics.sent.inc({ url: this.label }, batch.items.length);
        else this.metrics.dropped.inc({ url: this.label, reason: 'rejected' }, n);
        this.backoff.reset();
        this.metrics.queueLength.set({ url: this.label }, this.queue.length);
        this.firstPendingAt = this.queue.length > 0 ? performance.now() : undefined;
      } catch (err) {
        this.logger.error('remote-write loop error', { url: this.label, err });
        await sleep(this.backoff.next(), this.stopSignal);
      }
    }
  }

  private async send(batch: readonly QSample[]): Promise<SendResult> {
    const body = snappyCompress(encodeWriteRequestV1(toWriteSeries(batch)));
    try {
      const res = await this.post({
        url: this.cfg.url,
        headers: {
          ...this.cfg.headers,
          'Content-Encoding': 'snappy',
          'Content-Type': 'application/x-protobuf',
          'X-Prometheus-Remote-Write-Version': '0.1.0',
        },
        body,
        timeoutMs: this.cfg.remoteTimeout > 0 ? this.cfg.remoteTimeout : RW_DEFAULTS.timeoutMs,
        signal: this.stopSignal,
      });
      if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
      if (res.status === 429 || res.status >= 500) {
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.clock.now());
        this.logger.warn('remote-write failed, will retry', { url: this.label, status: res.status, body: res.body.slice(0, 256) });
        return retryAfterMs === undefined ? { kind: 'retry' } : { kind: 'retry', retryAfterMs };
      }
      this.logger.error('remote-write rejected, dropping batch', { url: this.label, status: res.status, samples: batch.length, body: res.body.slice(0, 256) });
      return { kind: 'drop', status: res.status };
    } catch (err) {
      if (!this.stopSignal.aborted) this.logger.warn('remote-write error, will retry', { url: this.label, err });
      return { kind: 'retry' };
    }
  }
}

/** Sends synthesized series to every configured `remote_write` URL; see the module comment. */
export class RemoteWriteSender implements SeriesSink {
  private readonly senders: UrlSender[];
  private readonly external: Labels;
  private readonly markStale: boolean;
  private readonly clock: Clock;
  private readonly stopCtl = new AbortController();
  /** Per group: last published series (by labels key) and whether its last value was stale. */
  private readonly last = new Map<string, Map<string, { labels: Labels; stale: boolean }>>();

  /** Throws {@link ValidationError} for an invalid URL or relabel regex. */
  constructor(opts: RemoteWriteSenderOptions) {
    const metrics = remoteWriteOutMetrics(opts.registry ?? new Registry());
    const logger = (opts.logger ?? nopLogger).with({ component: 'remote_write_out' });
    this.clock = opts.clock ?? systemClock;
    this.markStale = opts.markStale ?? true;
    this.external = labelsFrom({ ...(opts.externalLabels ?? {}) });
    const o = {
      queueCapacity: opts.queueCapacity ?? RW_DEFAULTS.queueCapacity,
      maxSamplesPerSend: Math.max(1, opts.maxSamplesPerSend ?? RW_DEFAULTS.maxSamplesPerSend),
      batchSendDeadlineMs: opts.batchSendDeadlineMs ?? RW_DEFAULTS.batchSendDeadlineMs,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? RW_DEFAULTS.maxRetryAfterMs,
      backoff: { initialMs: RW_DEFAULTS.minBackoffMs, maxMs: RW_DEFAULTS.maxBackoffMs, ...opts.backoff },
      ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
    };
    this.senders = opts.configs.map((cfg) => {
      let u: URL;
      try {
        u = new URL(cfg.url);
      } catch (err) {
        throw new ValidationError(`remote_write: invalid url ${JSON.stringify(cfg.url)}`, { cause: err });
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ValidationError(`remote_write: url ${JSON.stringify(cfg.url)} must be http or https`);
      return new UrlSender(cfg, o, metrics, logger, this.clock, this.stopCtl.signal);
    });
  }

  /** Queued samples per URL (redacted URL → count). */
  queueLengths(): Record<string, number> {
    return Object.fromEntries(this.senders.map((s) => [s.label, s.length]));
  }

  /** Enqueues a group's output (plus stale markers for series that vanished). Never throws. */
  publish(groupKey: string, ts: number, series: readonly Sample[]): void {
    if (this.senders.length === 0 || this.stopCtl.signal.aborted) return;
    const out: QSample[] = [];
    const now = new Map<string, { labels: Labels; stale: boolean }>();
    for (const s of series) {
      const labels = this.withExternal(s.dropName === true ? labelsWithout(s.metric, [METRIC_NAME]) : s.metric);
      const t = Number.isFinite(s.t) && s.t > 0 ? s.t : ts;
      const stale = s.h === undefined && isStaleNaN(s.f);
      now.set(labelsKey(labels), { labels, stale });
      out.push(s.h !== undefined ? { labels, t, v: 0, h: s.h } : { labels, t, v: s.f });
    }
    if (this.markStale) {
      for (const [k, prev] of this.last.get(groupKey) ?? []) {
        if (now.has(k) || prev.stale) continue;
        out.push({ labels: prev.labels, t: ts, v: STALE_NAN });
        now.set(k, { labels: prev.labels, stale: true });
      }
      this.last.set(groupKey, now);
    }
    if (out.length > 0) for (const s of this.senders) s.enqueue(out);
  }

  /** The group was removed: its remaining series get stale markers at the current time. */
  drop(groupKey: string): void {
    const prev = this.last.get(groupKey);
    this.last.delete(groupKey);
    if (prev === undefined || this.stopCtl.signal.aborted) return;
    const t = this.clock.now();
    const out: QSample[] = [];
    for (const p of prev.values()) if (!p.stale) out.push({ labels: p.labels, t, v: STALE_NAN });
    if (out.length > 0) for (const s of this.senders) s.enqueue(out);
  }

  /** Sends everything queued now (ignoring the batch deadline); waits up to `timeoutMs`. */
  async flush(timeoutMs = 30_000): Promise<void> {
    await Promise.all(this.senders.map((s) => s.flush(timeoutMs)));
  }

  /** Stops all loops (aborting in-flight requests); queued samples are discarded. */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    await Promise.all(this.senders.map((s) => s.stop()));
  }

  private withExternal(ls: Labels): Labels {
    if (this.external.length === 0) return ls;
    const m = new Map<string, string>();
    for (const l of this.external) m.set(l.name, l.value);
    for (const l of ls) m.set(l.name, l.value);
    if (m.size === ls.length) return ls;
    try {
      return labelsFrom([...m].map(([name, value]) => ({ name, value })));
    } catch {
      return ls;
    }
  }
}
