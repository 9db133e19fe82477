/**
 * Per-tenant enforcement of the `limits:` config: an appendable wrapper for the write path
 * (ingestion rate as a token bucket checked at commit, max active series, max series per
 * metric, max exemplars per request) and a query concurrency gate. Limits are read through a
 * getter on every use, so a config reload changes them without restarting anything.
 *
 * Series limits need to know whether an append creates a series. With the head's public API
 * that is answered after the fact (`hasSeries(ref)` is false for a series created by a pending
 * transaction) and, only when a limit is nearly reached, before the append by an exact lookup
 * through a querier. So the common path costs one `hasSeries` call per labelled append.
 */
import { LimitError } from '../model/errors.js';
import { labelsEqual, labelsGet, labelsKey, METRIC_NAME, type Labels } from '../model/labels.js';
import { newMatcher } from '../model/matchers.js';
import type { Clock } from '../model/clock.js';
import type { TenantLimitsConfig } from '../config/types.js';
import type { Appendable, Appender, Querier, Rejection, RejectReason, SeriesRef } from '../storage/interface.js';
import { TokenBucket } from './token-bucket.js';

/** A limit breach answered 429 with `Retry-After`. */
export class RateLimitError extends LimitError {
  override name = 'RateLimitError';
  constructor(
    message: string,
    limit: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, limit, 429, options);
  }
}

/** What the limiter needs from a tenant's head. */
export interface SeriesLookup {
  hasSeries(ref: SeriesRef): boolean;
  querier(mint: number, maxt: number): Querier;
  stats(): { readonly series: number };
}

/** Counters of one tenant (for `vigil_tenant_*`). */
export interface TenantUsage {
  samplesAccepted: number;
  /** Refused items by reason (`rate_limited`, `max_active_series`, …). */
  readonly refused: Map<string, number>;
  queriesInflight: number;
}

const MAX_REJECTIONS_KEPT = 10;
/** Cached per-metric series counts are recounted after this long. */
const METRIC_COUNT_TTL_MS = 30_000;

/** Per-tenant limiter. */
export class TenantLimiter {
  readonly usage: TenantUsage = { samplesAccepted: 0, refused: new Map(), queriesInflight: 0 };
  private readonly bucket: TokenBucket;
  private readonly metricCounts = new Map<string, { n: number; at: number }>();

  constructor(
    readonly tenant: string,
    private readonly limits: () => TenantLimitsConfig,
    private readonly clock: Clock,
  ) {
    const l = limits();
    this.bucket = new TokenBucket(l.ingestionRate, l.ingestionBurst, clock);
  }

  /** Current limits (reloaded config). */
  current(): TenantLimitsConfig {
    return this.limits();
  }

  /** Counts `n` refused items for `reason`. */
  refuse(reason: string, n = 1): void {
    this.usage.refused.set(reason, (this.usage.refused.get(reason) ?? 0) + n);
  }

  /** Takes `n` ingestion tokens or throws a {@link LimitError} (429 with retry, or 400 when n exceeds the burst). */
  takeIngestion(n: number): void {
    const l = this.limits();
    this.bucket.configure(l.ingestionRate, l.ingestionBurst);
    const r = this.bucket.take(n);
    if (r.kind === 'ok') return;
    this.refuse('rate_limited', n);
    if (r.kind === 'too-large') {
      throw new LimitError(`request of ${n} samples exceeds the per-tenant limit ingestion_burst_size (${l.ingestionBurst}) of tenant ${JSON.stringify(this.tenant)}`, 'ingestion_burst_size', 400);
    }
    throw new RateLimitError(
      `per-tenant limit ingestion_rate (${l.ingestionRate} samples/s, burst ${l.ingestionBurst}) exceeded for tenant ${JSON.stringify(this.tenant)}; retry after ${r.retryAfterSeconds}s`,
      'ingestion_rate',
      r.retryAfterSeconds,
    );
  }

  /** Admits one query or throws 429 when `max_concurrent_queries` are already running. Returns the release function. */
  acquireQuery(): () => void {
    const max = this.limits().maxConcurrentQueries;
    if (max > 0 && this.usage.queriesInflight >= max) {
      this.refuse('max_concurrent_queries');
      throw new RateLimitError(`per-tenant limit max_concurrent_queries (${max}) reached for tenant ${JSON.stringify(this.tenant)}`, 'max_concurrent_queries', 1);
    }
    this.usage.queriesInflight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.usage.queriesInflight--;
    };
  }

  /** Series of metric `name` in `head` (cached, recounted every 30 s). */
  metricSeries(head: SeriesLookup, name: string): number {
    const now = this.clock.now();
    const c = this.metricCounts.get(name);
    if (c && now - c.at < METRIC_COUNT_TTL_MS) return c.n;
    const q = head.querier(-Infinity, Infinity);
    let n: number;
    try {
      n = q.select({ mint: -Infinity, maxt: Infinity, matchers: [newMatcher('=', METRIC_NAME, name)], sorted: false }).length;
    } finally {
      q.close();
    }
    if (this.metricCounts.size > 100_000) this.metricCounts.clear();
    this.metricCounts.set(name, { n, at: now });
    return n;
  }

  /** Notes `k` new committed series of metric `name`. */
  addMetricSeries(name: string, k: number): void {
    const c = this.metricCounts.get(name);
    if (c) c.n += k;
  }

  /** Wraps the tenant's appendable so every transaction obeys the limits. */
  wrap(inner: Appendable, head: SeriesLookup): Appendable {
    return { appender: () => new LimitingAppender(inner.appender(), head, this) };
  }
}

function exists(head: SeriesLookup, labels: Labels): boolean {
  if (labels.length === 0) return false;
  const q = head.querier(-Infinity, Infinity);
  try {
    const ms = labels.map((l) => newMatcher('=', l.name, l.value));
    return q.select({ mint: -Infinity, maxt: Infinity, matchers: ms, sorted: false }).some((s) => labelsEqual(s.labels, labels));
  } finally {
    q.close();
  }
}

/** An appender that enforces series and exemplar limits per append, and the ingestion rate at commit. */
class LimitingAppender implements Appender {
  private readonly newSeries = new Map<string, string>(); // labelsKey → metric name
  private readonly newRefs = new Set<SeriesRef>();
  private ownTotal = 0;
  private readonly ownByReason = new Map<RejectReason, number>();
  private readonly ownFirst: Rejection[] = [];
  private exemplars = 0;

  constructor(
    private readonly inner: Appender,
    private readonly head: SeriesLookup,
    private readonly lim: TenantLimiter,
  ) {}

  private reject(labels: Labels, t: number, limit: string, message: string): SeriesRef {
    this.ownTotal++;
    this.ownByReason.set('series_limit', (this.ownByReason.get('series_limit') ?? 0) + 1);
    if (this.ownFirst.length < MAX_REJECTIONS_KEPT) this.ownFirst.push({ reason: 'series_limit', labels, t, message });
    this.lim.refuse(limit);
    return 0;
  }

  /** Checks series limits before an append; returns a rejection message or undefined. */
  private admit(ref: SeriesRef, labels: Labels, t: number): boolean {
    if (ref > 0 && (this.head.hasSeries(ref) || this.newRefs.has(ref))) return true;
    if (labels.length === 0) return true; // the inner appender rejects unknown refs without labels
    const l = this.lim.current();
    const key = labelsKey(labels);
    if (this.newSeries.has(key)) return true;
    const name = labelsGet(labels, METRIC_NAME);
    const nearTotal = l.maxActiveSeries > 0 && this.head.stats().series + this.newSeries.size >= l.maxActiveSeries;
    let nearMetric = false;
    if (l.maxSeriesPerMetric > 0) {
      let pending = 0;
      for (const n of this.newSeries.values()) if (n === name) pending++;
      nearMetric = this.lim.metricSeries(this.head, name) + pending >= l.maxSeriesPerMetric;
    }
    if (!nearTotal && !nearMetric) return true;
    if (exists(this.head, labels)) return true;
    const tenant = JSON.stringify(this.lim.tenant);
    if (nearTotal) this.reject(labels, t, 'max_active_series', `per-tenant limit max_active_series (${l.maxActiveSeries}) reached for tenant ${tenant}`);
    else this.reject(labels, t, 'max_series_per_metric', `per-tenant limit max_series_per_metric (${l.maxSeriesPerMetric}) reached for metric ${JSON.stringify(name)} of tenant ${tenant}`);
    return false;
  }

  private note(r: SeriesRef, labels: Labels): SeriesRef {
    if (r > 0 && labels.length > 0 && !this.newRefs.has(r) && !this.head.hasSeries(r)) {
      this.newRefs.add(r);
      this.newSeries.set(labelsKey(labels), labelsGet(labels, METRIC_NAME));
    }
    return r;
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number, st?: number): SeriesRef {
    if (!this.admit(ref, labels, t)) return 0;
    return this.note(this.inner.append(ref, labels, t, v, st), labels);
  }

  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: Parameters<Appender['appendHistogram']>[3], st?: number): SeriesRef {
    if (!this.admit(ref, labels, t)) return 0;
    return this.note(this.inner.appendHistogram(ref, labels, t, h, st), labels);
  }

  appendExemplar(ref: SeriesRef, labels: Labels, e: Parameters<Appender['appendExemplar']>[2]): SeriesRef {
    const max = this.lim.current().maxExemplarsPerRequest;
    if (max > 0 && this.exemplars >= max) {
      this.lim.refuse('max_exemplars_per_request');
      return 0;
    }
    this.exemplars++;
    return this.inner.appendExemplar(ref, labels, e);
  }

  updateMetadata(metricName: string, md: Parameters<Appender['updateMetadata']>[1]): void {
    this.inner.updateMetadata(metricName, md);
  }

  get counts(): Appender['counts'] {
    return this.inner.counts;
  }

  get rejected(): Appender['rejected'] {
    const r = this.inner.rejected;
    if (this.ownTotal === 0) return r;
    const byReason = new Map(r.byReason);
    for (const [k, n] of this.ownByReason) byReason.set(k, (byReason.get(k) ?? 0) + n);
    return { total: r.total + this.ownTotal, byReason, first: [...this.ownFirst, ...r.first].slice(0, MAX_REJECTIONS_KEPT) };
  }

  async commit(): Promise<void> {
    const c = this.inner.counts;
    const n = c.samples + c.histograms;
    try {
      this.lim.takeIngestion(n);
    } catch (e) {
      this.inner.rollback();
      throw e;
    }
    await this.inner.commit();
    this.lim.usage.samplesAccepted += n;
    const perMetric = new Map<string, number>();
    for (const name of this.newSeries.values()) perMetric.set(name, (perMetric.get(name) ?? 0) + 1);
    for (const [name, k] of perMetric) this.lim.addMetricSeries(name, k);
  }

  rollback(): void {
    this.inner.rollback();
  }
}
