/**
 * One target's scrape loop: fetch, parse, attach target labels (honor_labels), metric
 * relabeling, sample_limit, one appender transaction per scrape with the report series
 * (`up`, `scrape_*`) and staleness markers for series that disappeared. Never throws: failures
 * are logged, counted and reported as `up 0`.
 */
import type { ScrapeConfig } from '../../config/types.js';
import type { Clock } from '../../model/clock.js';
import { labelsKey, METRIC_NAME, type Label, type Labels } from '../../model/labels.js';
import type { Logger } from '../../model/logger.js';
import type { CompiledRelabel } from '../../model/relabel.js';
import { STALE_NAN, type MetricMetadata, type MetricType } from '../../model/samples.js';
import type { Appendable, Appender, SeriesRef } from '../../storage/interface.js';
import { ExpositionParseError } from './exposition.js';
import type { ScrapeMetrics } from './metrics.js';
import { parseByContentType } from './parse.js';
import { DEFAULT_BODY_SIZE_LIMIT, fetchScrapeBody, ScrapeError, type FetchedBody, type FetchOptions } from './scrape-http.js';
import type { ScrapeTarget } from './targets.js';

/** Names of the report series written after every scrape. */
export const REPORT_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'] as const;

/** Fetch function (injectable for tests). */
export type ScrapeFetch = (url: string, opts: FetchOptions) => Promise<FetchedBody>;

interface SeriesEntry {
  readonly labels: Labels;
  readonly key: string;
  ref: SeriesRef;
}

/** State carried from one loop to its replacement on a config reload (keeps staleness exact). */
export interface ScrapeLoopState {
  readonly series: ReadonlyMap<string, SeriesEntry>;
}

/** Options of {@link ScrapeLoop}. */
export interface ScrapeLoopOptions {
  readonly target: ScrapeTarget;
  readonly config: ScrapeConfig;
  readonly appendable: Appendable;
  readonly metricRelabel: CompiledRelabel;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ScrapeMetrics;
  readonly previous?: ScrapeLoopState;
  readonly fetch?: ScrapeFetch;
  /**
   * Scrape timestamps within this many ms of the scheduled time are snapped to it, as
   * Prometheus does (`--scrape.timestamp-tolerance`, default 2 ms): timer jitter then costs no
   * bits in the chunks (delta-of-delta 0). Applied only when the interval is more than 100
   * times the tolerance; 0 disables it.
   */
  readonly timestampToleranceMs?: number;
}

/** Default of {@link ScrapeLoopOptions.timestampToleranceMs}. */
export const DEFAULT_TIMESTAMP_TOLERANCE_MS = 2;

/**
 * Snaps `now` to the nearest scheduled instant `offset + k·interval` when it lies within
 * `tolerance` ms of it (and `interval > 100·tolerance`); otherwise returns `now`.
 */
export function alignScrapeTimestamp(now: number, intervalMs: number, offsetMs: number, toleranceMs: number): number {
  if (!(toleranceMs > 0) || !(intervalMs > 100 * toleranceMs)) return now;
  const phase = (((now - offsetMs) % intervalMs) + intervalMs) % intervalMs;
  if (phase <= toleranceMs) return now - phase;
  if (intervalMs - phase <= toleranceMs) return now + (intervalMs - phase);
  return now;
}

/** Outcome of one scrape. */
export interface ScrapeReport {
  readonly ok: boolean;
  readonly timestamp: number;
  readonly durationSeconds: number;
  readonly samplesScraped: number;
  readonly samplesPostRelabel: number;
  readonly seriesAdded: number;
  readonly error?: string;
  readonly reason?: string;
}

/** Health of a target as the targets API shows it. */
export type TargetHealth = 'up' | 'down' | 'unknown';

/**
 * Merges target labels into scraped labels. With `honor`, scraped labels win; otherwise target
 * labels win and clashing scraped labels are kept as `exported_<name>` (repeated prefixes when
 * that name is taken too).
 */
export function mergeTargetLabels(scraped: Labels, target: Labels, honor: boolean): Labels {
  const lb = new Map<string, string>();
  for (const l of scraped) lb.set(l.name, l.value);
  if (honor) {
    for (const l of target) if (!lb.get(l.name)) lb.set(l.name, l.value);
  } else {
    const conflicts: Label[] = [];
    for (const l of target) {
      const existing = lb.get(l.name);
      if (existing) conflicts.push({ name: l.name, value: existing });
      lb.set(l.name, l.value);
    }
    for (const c of conflicts) {
      let n = `exported_${c.name}`;
      while (lb.get(n)) n = `exported_${n}`;
      lb.set(n, c.value);
    }
  }
  const out: Label[] = [];
  for (const [name, value] of lb) if (value !== '') out.push({ name, value });
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function reportLabels(target: Labels, name: string): Labels {
  return mergeTargetLabels([{ name: METRIC_NAME, value: name }], target, false);
}

function reasonOf(err: unknown): ScrapeError['reason'] {
  if (err instanceof ScrapeError) return err.reason;
  if (err instanceof ExpositionParseError) return 'parse';
  return 'internal';
}

/** The scrape loop of one target. */
export class ScrapeLoop {
  private prev: Map<string, SeriesEntry>;
  private cache = new Map<string, SeriesEntry | null>();
  private readonly reportRefs = new Map<string, SeriesRef>();
  private readonly metaSent = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ScrapeReport> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private last: ScrapeReport | undefined;
  private readonly fetch: ScrapeFetch;

  constructor(private readonly o: ScrapeLoopOptions) {
    this.prev = new Map(o.previous?.series ?? []);
    this.fetch = o.fetch ?? fetchScrapeBody;
  }

  /** The target scraped by this loop. */
  get target(): ScrapeTarget {
    return this.o.target;
  }

  /** Last scrape outcome (undefined before the first scrape). */
  lastReport(): ScrapeReport | undefined {
    return this.last;
  }

  /** Health from the last scrape. */
  health(): TargetHealth {
    return this.last === undefined ? 'unknown' : this.last.ok ? 'up' : 'down';
  }

  /** State to hand to a replacement loop. */
  state(): ScrapeLoopState {
    return { series: new Map(this.prev) };
  }

  /** Starts scraping at a stable offset (hash of the target) within the interval. */
  start(): void {
    if (this.stopped || this.timer) return;
    const iv = this.o.target.intervalMs;
    const offset = this.o.target.hash % iv;
    const now = this.o.clock.now();
    this.arm((((offset - now) % iv) + iv) % iv);
  }

  private arm(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    void this.scrapeOnce().finally(() => {
      const iv = this.o.target.intervalMs;
      const offset = this.o.target.hash % iv;
      const phase = (((this.o.clock.now() - offset) % iv) + iv) % iv;
      this.arm(iv - phase); // overruns skip the ticks they missed
    });
  }

  /** Scrapes once now (also used by tests). Never rejects. Concurrent calls share one scrape. */
  scrapeOnce(): Promise<ScrapeReport> {
    if (this.running) return this.running;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<ScrapeReport> {
    const o = this.o;
    const job = o.target.job;
    const iv = o.target.intervalMs;
    const ts = alignScrapeTimestamp(o.clock.now(), iv, o.target.hash % iv, o.timestampToleranceMs ?? DEFAULT_TIMESTAMP_TOLERANCE_MS);
    const t0 = performance.now();
    let scraped = 0;
    let post = 0;
    let app: Appender | undefined;
    try {
      const limit = o.config.bodySizeLimit > 0 ? o.config.bodySizeLimit : DEFAULT_BODY_SIZE_LIMIT;
      const res = await this.fetch(o.target.url, { timeoutMs: o.target.timeoutMs, bodySizeLimit: limit, http: o.config, signal: this.abort.signal });
      if (this.stopped) throw new ScrapeError('scrape loop stopped', 'connection');
      app = o.appendable.appender();
      const current = new Map<string, SeriesEntry>();
      const nextCache = new Map<string, SeriesEntry | null>();
      const meta = new Map<string, { type: MetricType; help: string; unit: string }>();
      const honorTs = o.config.honorTimestamps;
      const sampleLimit = o.config.sampleLimit;
      for (const e of parseByContentType(res.body, res.contentType)) {
        if (e.kind === 'meta') {
          const m = meta.get(e.metric) ?? { type: 'unknown' as MetricType, help: '', unit: '' };
          if (e.type !== undefined) m.type = e.type;
          if (e.help !== undefined) m.help = e.help;
          if (e.unit !== undefined) m.unit = e.unit;
          meta.set(e.metric, m);
          continue;
        }
        scraped++;
        const rawKey = labelsKey(e.labels);
        let se = nextCache.get(rawKey);
        if (se === undefined) {
          se = this.cache.get(rawKey);
          if (se === undefined) {
            const final = o.metricRelabel(mergeTargetLabels(e.labels, o.target.labels, o.config.honorLabels));
            se = final === null || final.length === 0 ? null : { labels: final, key: labelsKey(final), ref: 0 };
          }
          nextCache.set(rawKey, se);
        }
        if (se === null) continue;
        post++;
        if (sampleLimit > 0 && post > sampleLimit) throw new ScrapeError(`sample limit exceeded (more than ${sampleLimit} samples)`, 'sample_limit');
        const explicit = honorTs && e.timestampMs !== undefined;
        const t = explicit ? e.timestampMs! : ts;
        const ref = app.append(se.ref, se.labels, t, e.value);
        if (ref !== 0) se.ref = ref;
        if (e.exemplar !== undefined && ref !== 0) app.appendExemplar(ref, se.labels, e.exemplar);
        if (!explicit) current.set(se.key, se);
      }
      let added = 0;
      for (const k of current.keys()) if (!this.prev.has(k)) added++;
      for (const [k, s] of this.prev) if (!current.has(k)) app.append(s.ref, s.labels, ts, STALE_NAN);
      for (const [name, m] of meta) {
        const sig = `${m.type}\u0000${m.help}\u0000${m.unit}`;
        if (this.metaSent.get(name) === sig) continue;
        app.updateMetadata(name, m satisfies MetricMetadata);
        this.metaSent.set(name, sig);
      }
      const dur = (performance.now() - t0) / 1000;
      this.appendReport(app, ts, [1, dur, scraped, post, added]);
      try {
        await app.commit();
      } catch (err) {
        app = undefined;
        throw new ScrapeError(`commit failed: ${(err as Error).message}`, 'commit', { cause: err });
      }
      this.prev = current;
      this.cache = nextCache;
      o.metrics.duration.observe({ job }, dur);
      o.metrics.samples.inc({ job }, post);
      return this.finish({ ok: true, timestamp: ts, durationSeconds: dur, samplesScraped: scraped, samplesPostRelabel: post, seriesAdded: added });
    } catch (err) {
      return this.fail(err, app, ts, t0);
    }
  }

  private async fail(err: unknown, app: Appender | undefined, ts: number, t0: number): Promise<ScrapeReport> {
    const o = this.o;
    const job = o.target.job;
    if (app !== undefined) {
      try {
        app.rollback();
      } catch {
        /* already finished */
      }
    }
    const reason = reasonOf(err);
    const message = err instanceof Error ? err.message : String(err);
    const dur = (performance.now() - t0) / 1000;
    if (this.stopped) {
      // stop() writes the staleness markers; a scrape cut short by stopping is not a failure.
      return this.finish({ ok: false, timestamp: ts, durationSeconds: dur, samplesScraped: 0, samplesPostRelabel: 0, seriesAdded: 0, error: message, reason });
    }
    o.metrics.failures.inc({ job, reason });
    o.metrics.duration.observe({ job }, dur);
    o.logger.warn('scrape failed', { job, url: o.target.url, reason, err: message });
    try {
      const a = o.appendable.appender();
      for (const s of this.prev.values()) a.append(s.ref, s.labels, ts, STALE_NAN);
      this.appendReport(a, ts, [0, dur, 0, 0, 0]);
      await a.commit();
      this.prev = new Map();
    } catch (e2) {
      o.metrics.failures.inc({ job, reason: 'commit' });
      o.logger.error('cannot write report of failed scrape', { job, err: e2 });
    }
    return this.finish({ ok: false, timestamp: ts, durationSeconds: dur, samplesScraped: 0, samplesPostRelabel: 0, seriesAdded: 0, error: message, reason });
  }

  private finish(r: ScrapeReport): ScrapeReport {
    this.last = r;
    return r;
  }

  private appendReport(app: Appender, ts: number, values: readonly number[]): void {
    REPORT_SERIES.forEach((name, i) => {
      const ls = reportLabels(this.o.target.labels, name);
      const ref = app.append(this.reportRefs.get(name) ?? 0, ls, ts, values[i]!);
      if (ref !== 0) this.reportRefs.set(name, ref);
    });
  }

  /**
   * Stops the loop: aborts an in-flight scrape, waits for it, and with `markStale` writes
   * staleness markers for every series of the last scrape and the report series.
   */
  async stop(opts: { markStale: boolean } = { markStale: true }): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    if (this.running) await this.running.catch(() => undefined);
    if (!opts.markStale) return;
    const ts = this.o.clock.now();
    try {
      const a = this.o.appendable.appender();
      for (const s of this.prev.values()) a.append(s.ref, s.labels, ts, STALE_NAN);
      if (this.last !== undefined) for (const name of REPORT_SERIES) a.append(this.reportRefs.get(name) ?? 0, reportLabels(this.o.target.labels, name), ts, STALE_NAN);
      await a.commit();
      this.prev = new Map();
    } catch (err) {
      this.o.metrics.failures.inc({ job: this.o.target.job, reason: 'commit' });
      this.o.logger.error('cannot write staleness markers of stopped target', { job: this.o.target.job, err });
    }
  }
}
