/**
 * A rule group: runs its rules in order at one timestamp per iteration, appends their output
 * (plus stale markers for series that vanished), publishes it to the sink and notifies alerts.
 * Scheduling as Prometheus: a deterministic per-group offset inside the interval, aligned
 * timestamps, skipped (and counted) ticks when an iteration overruns.
 */
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../model/clock.js';
import { labelsKey, type Labels } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { STALE_NAN } from '../model/samples.js';
import type { Sample } from '../promql/engine/values.js';
import type { Appendable, Queryable, SeriesRef } from '../storage/interface.js';
import { RetrainScheduler } from '../ml/retrain.js';
import { AlertingRule, generatorURL } from './alerting.js';
import { AnomalyRule } from './anomaly.js';
import { errMessage, monoMs, outputKey } from './base.js';
import { ForecastRule } from './forecast.js';
import { ruleMetrics, type RuleMetrics } from './metrics.js';
import { groupConfigFingerprint, isPredictive, makeGroupRule, ruleIdentity, type PredictiveRule } from './group-rules.js';
import { formatHorizon, type PredictiveDeps } from './predictive-base.js';
import { predictiveMetrics } from './predictive-metrics.js';
import type { RangeQueryFunc } from './predictive-window.js';
import { RecordingRule } from './recording.js';
import { restoreForState } from './restore.js';
import type { EvalContext, NotifyFunc, QueryFunc, Rule, RuleGroupConfig, SeriesSink, SpanFactory } from './rule.js';
import { ruleContext, startGroupSpan } from '../tracing/rules.js';
import { selectedNames, type SelectedNames } from './selectors.js';
import type { Templater } from './templating.js';

/** What a group needs from the outside. */
export interface GroupDeps {
  readonly query: QueryFunc;
  readonly appendable: Appendable;
  /** Storage to read `ALERTS_FOR_STATE` from when restoring `for` state (skipped when absent). */
  readonly queryable?: Queryable;
  readonly notify?: NotifyFunc;
  readonly sink?: SeriesSink;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Template engine (default: the Go-template engine). */
  readonly templater?: Templater;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  /** `--rules.alert.resend-delay` (Prometheus default 1m). */
  readonly resendDelayMs: number;
  /** `--rules.alert.for-outage-tolerance` (default 1h). */
  readonly outageToleranceMs: number;
  /** `--rules.alert.for-grace-period` (default 10m). */
  readonly gracePeriodMs: number;
  /** Range queries, for predictive rules whose `expr` is not a plain selector (they read `queryable` otherwise). */
  readonly queryRange?: RangeQueryFunc;
  /** Predictive rules (forecast, anomaly): model registry, refits. */
  readonly predictive?: PredictiveDeps;
  /** Self-tracing: `rules.group` → `rules.rule` → `rules.query` spans per iteration (default off). */
  readonly tracer?: SpanFactory;
}

/** A series a rule output, with the ref storage gave it (0: unknown). */
interface OutSeries {
  readonly l: Labels;
  ref: SeriesRef;
}

/** Options of a {@link RuleGroup}. */
export interface GroupOptions {
  /** Interval used when the group sets none (global evaluation_interval). */
  readonly defaultIntervalMs: number;
  /** Restore alert `for` state after the first evaluation (startup; default true). */
  readonly restore?: boolean;
  /** Minimum spacing between ingest-triggered evaluations (default 20 ms). */
  readonly ingestMinSpacingMs?: number;
}

/** FNV-1a 32-bit of a string. */
function fnv32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export { groupConfigFingerprint, ruleIdentity };

/** Group identity: `file;name`. */
export function groupKey(file: string, name: string): string {
  return `${file};${name}`;
}

/** A running rule group. */
export class RuleGroup {
  /** `file;name`. */
  readonly key: string;
  readonly name: string;
  readonly file: string;
  /** Evaluation interval (ms). */
  readonly interval: number;
  /** Deterministic offset of the evaluation timestamps inside the interval (ms). */
  readonly offset: number;
  private readonly ruleList: Rule[];
  /** Per rule: what it output last (by key), with the storage ref for fast appends. */
  private prevSeries: Map<string, OutSeries>[];
  private staleSeries: Labels[] = [];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: RuleMetrics;
  private readonly selected: SelectedNames = { all: false, names: new Set() };
  private readonly ownOutputs = new Set<string>(['ALERTS', 'ALERTS_FOR_STATE']);
  private readonly ingestSpacing: number;
  private needsRestore: boolean;
  private chain: Promise<void> = Promise.resolve();
  private lastTs = -Infinity;
  private lastDurationMs = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private ingestTimer: NodeJS.Timeout | undefined;
  private ingestQueued = false;
  private lastIngestStart = -Infinity;
  private abort = new AbortController();
  private retrain: RetrainScheduler | undefined;
  private readonly outKeys = new WeakMap<Labels, string>();
  private readonly outRefs = new WeakMap<Labels, SeriesRef>();

  constructor(
    readonly config: RuleGroupConfig,
    private readonly deps: GroupDeps,
    opts: GroupOptions,
  ) {
    this.key = groupKey(config.file, config.name);
    this.name = config.name;
    this.file = config.file;
    this.interval = config.interval > 0 ? config.interval : opts.defaultIntervalMs;
    if (!(this.interval > 0)) throw new RangeError(`rule group ${this.key}: interval must be > 0`);
    this.offset = fnv32(this.key) % this.interval;
    this.clock = deps.clock ?? systemClock;
    this.logger = (deps.logger ?? nopLogger).with({ component: 'rules', group: config.name, file: config.file });
    this.metrics = ruleMetrics(deps.registry);
    this.ingestSpacing = opts.ingestMinSpacingMs ?? 20;
    const restore = (opts.restore ?? true) && deps.queryable !== undefined;
    this.ruleList = config.rules.map((rc) =>
      makeGroupRule(rc, { groupLabels: config.labels, deps, logger: this.logger, clock: this.clock, restore }),
    );
    this.needsRestore = restore && this.ruleList.some((r) => r instanceof AlertingRule && !r.isRestored());
    this.prevSeries = this.ruleList.map(() => new Map());
    for (const r of this.ruleList) {
      if (r instanceof RecordingRule) this.ownOutputs.add(r.config.record);
      if (r instanceof ForecastRule) this.ownOutputs.add(r.name);
      if (r instanceof AnomalyRule) for (const sfx of ['', ':yhat', ':yhat_lower', ':yhat_upper']) this.ownOutputs.add(r.name + sfx);
      if (isPredictive(r)) void r.prepare();
      const e = (r as RecordingRule | AlertingRule | PredictiveRule).expr;
      if (e) selectedNames(e, this.selected);
    }
    this.metrics.rules(this.key, this.ruleList.length, this.interval / 1000);
  }

  /**
   * Waits until the models of the group's predictive rules are loaded (or failed: such a rule is
   * then unhealthy with the reason, the others run). Never rejects.
   */
  async prepare(): Promise<void> {
    await Promise.all(this.ruleList.filter(isPredictive).map((r) => r.prepare()));
  }

  /** The rules, in file order. */
  rules(): readonly Rule[] {
    return this.ruleList;
  }

  /** Timestamp (ms, after query offset) of the last evaluation, 0 if none. */
  lastEvaluation(): number {
    return Number.isFinite(this.lastTs) ? this.lastTs : 0;
  }

  /** Duration of the last evaluation (ms). */
  evaluationTimeMs(): number {
    return this.lastDurationMs;
  }

  /** True when the group's rules select one of `metricNames` (its own outputs excluded). */
  selects(metricNames: Iterable<string>): boolean {
    for (const n of metricNames) {
      if (this.ownOutputs.has(n)) continue;
      if (this.selected.all || this.selected.names.has(n)) return true;
    }
    return false;
  }

  /** Aligned evaluation timestamp for `now`: `floor((now - offset) / interval) * interval + offset`. */
  alignedTs(now: number): number {
    return Math.floor((now - this.offset) / this.interval) * this.interval + this.offset;
  }

  /** One iteration at `ts` (the group's query offset is subtracted). Serialized with other runs; never rejects. */
  evalAt(ts: number): Promise<void> {
    const run = this.chain.then(() => this.iterate(ts));
    this.chain = run.catch(() => {});
    return this.chain;
  }

  private async iterate(ts: number): Promise<void> {
    const evalTs = ts - this.config.queryOffset;
    if (evalTs <= this.lastTs) {
      this.logger.debug('skipping evaluation at or before the previous one', { ts: evalTs, last: this.lastTs });
      return;
    }
    const t0 = monoMs();
    const ctx: EvalContext = {
      ts: evalTs,
      query: this.deps.query,
      externalLabels: this.deps.externalLabels,
      externalURL: this.deps.externalURL,
      interval: this.interval,
      limit: this.config.limit,
      signal: this.abort.signal,
    };
    const all: Sample[] = [];
    const tracer = this.deps.tracer;
    const groupSpan = startGroupSpan(tracer, { group: this.name, file: this.file, group_key: this.key, tenant: this.config.tenant, ts: evalTs });
    for (let i = 0; i < this.ruleList.length; i++) {
      const rule = this.ruleList[i]!;
      const traced = ruleContext(tracer, groupSpan, ctx, rule);
      try {
        const res = await rule.eval(traced.ctx);
        traced.span?.setTag('series', res.series.length).setTag('health', rule.health());
        if (rule.health() === 'err' && rule.lastEvaluation() === evalTs) {
          this.metrics.failure(this.key);
          this.logger.warn('rule evaluation failed', { rule: rule.name, err: rule.lastError() });
          continue; // no output and no stale markers on failure (as Prometheus)
        }
        const cur = new Map<string, OutSeries>();
        const prev = this.prevSeries[i]!;
        const app = this.deps.appendable.appender();
        if (isPredictive(rule)) {
          // Predictive rules reuse their output label objects: cache keys and series refs.
          for (const s of res.series) {
            let k = this.outKeys.get(s.metric);
            if (k === undefined) this.outKeys.set(s.metric, (k = labelsKey(s.metric)));
            cur.set(k, { l: s.metric, ref: 0 });
            const ref = app.append(this.outRefs.get(s.metric) ?? 0, s.metric, evalTs, s.f);
            if (ref) this.outRefs.set(s.metric, ref);
          }
        } else {
          // Same output series as last time (by key): append by its storage ref, reuse the entry.
          for (const s of res.series) {
            const k = outputKey(s.metric);
            let o = prev.get(k);
            if (o === undefined || o.l !== s.metric) o = { l: s.metric, ref: o?.ref ?? 0 };
            const ref = s.h ? app.appendHistogram(o.ref, s.metric, evalTs, s.h) : app.append(o.ref, s.metric, evalTs, s.f);
            o.ref = ref;
            cur.set(k, o);
          }
        }
        for (const [k, o] of prev) if (!cur.has(k)) app.append(o.ref, o.l, evalTs, STALE_NAN);
        await this.commit(app, rule.name);
        this.prevSeries[i] = cur;
        for (const s of res.series) all.push(s);
        if (res.toSend && res.toSend.length > 0 && this.deps.notify && rule instanceof AlertingRule) {
          const url = generatorURL(this.deps.externalURL, rule.query);
          this.deps.notify(res.toSend, { generatorURL: () => url, ...(traced.span ? { span: traced.span } : {}) });
        }
      } catch (e) {
        traced.span?.fail(e);
        this.metrics.failure(this.key);
        this.logger.error('rule evaluation failed unexpectedly', { rule: rule.name, err: errMessage(e) });
      } finally {
        if (traced.span && rule.health() === 'err' && rule.lastEvaluation() === evalTs) traced.span.fail(rule.lastError() ?? 'rule evaluation failed');
        traced.span?.finish();
      }
    }
    if (this.staleSeries.length > 0) {
      const app = this.deps.appendable.appender();
      for (const l of this.staleSeries) app.append(0, l, evalTs, STALE_NAN);
      this.staleSeries = [];
      await this.commit(app, '(removed rules)');
    }
    if (this.needsRestore) {
      this.needsRestore = false;
      const alerting = this.ruleList.filter((r): r is AlertingRule => r instanceof AlertingRule && !r.isRestored());
      if (this.deps.queryable) {
        const n = restoreForState(alerting, this.deps.queryable, evalTs, {
          outageToleranceMs: this.deps.outageToleranceMs,
          gracePeriodMs: this.deps.gracePeriodMs,
          logger: this.logger,
        });
        if (n > 0) this.logger.info('restored alert for-state', { alerts: n });
      }
      for (const r of alerting) r.setRestored(true);
    }
    try {
      this.deps.sink?.publish(this.key, evalTs, all);
    } catch (e) {
      this.logger.error('series sink failed', { err: errMessage(e) });
    }
    groupSpan?.setTag('series', all.length);
    groupSpan?.finish();
    this.lastTs = evalTs;
    this.lastDurationMs = monoMs() - t0;
    this.metrics.evaluations(this.key, this.ruleList.length);
    this.metrics.iteration(this.key, this.lastDurationMs / 1000, evalTs);
  }

  private async commit(app: ReturnType<Appendable['appender']>, what: string): Promise<void> {
    try {
      await app.commit();
      if (app.rejected.total > 0) {
        const first = app.rejected.first[0];
        this.logger.warn('rule output rejected by storage', { rule: what, rejected: app.rejected.total, first: first?.message });
      }
    } catch (e) {
      this.logger.error('appending rule output failed', { rule: what, err: errMessage(e) });
    }
  }

  /** Starts the evaluation loop (first run at the next aligned tick). */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.startRetrain();
    this.loop = this.runLoop();
  }

  /** Schedules refits of predictive rules (`retrain:` on the rule, else the global schedule). */
  private startRetrain(): void {
    const p = this.deps.predictive;
    const jobs = this.ruleList.flatMap((r, i) => (isPredictive(r) && (r.config.retrain ?? p?.retrain) ? [{ r, i, expr: (r.config.retrain ?? p?.retrain)! }] : []));
    if (jobs.length === 0) return;
    const byName = new Map<string, PredictiveRule>();
    this.retrain = new RetrainScheduler({
      onModel: (name, bytes) => byName.get(name)?.swapModel(bytes),
      logger: this.logger,
      ...(p?.schedule ? { schedule: p.schedule } : {}),
    });
    for (const { r, i, expr } of jobs) {
      const name = `${this.key}#${i}:${r.name}`;
      byName.set(name, r);
      try {
        this.retrain.add(name, expr, (signal) => r.retrainBytes(signal));
      } catch (e) {
        this.logger.error('invalid retrain schedule', { rule: r.name, err: errMessage(e) });
      }
    }
  }

  /** Names of the refit jobs of this group (for tests and debugging). */
  retrainJobs(): RetrainScheduler | undefined {
    return this.retrain;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      this.wake = res;
      this.sleepTimer = setTimeout(res, Math.max(0, ms));
    });
  }

  private async runLoop(): Promise<void> {
    let next = this.alignedTs(this.clock.now()) + this.interval;
    while (this.running) {
      await this.sleep(next - this.clock.now());
      if (!this.running) break;
      try {
        await this.evalAt(next);
      } catch (e) {
        this.logger.error('rule group iteration failed', { err: errMessage(e) });
      }
      const missed = Math.floor((this.clock.now() - next) / this.interval) - 1;
      if (missed > 0) this.metrics.missed(this.key, missed);
      next += (Math.max(0, missed) + 1) * this.interval;
    }
  }

  /**
   * Schedules an extra evaluation at "now" because ingested data touched what the group selects.
   * Coalesced: at most one extra run waits at a time, starts are at least the minimum spacing apart.
   */
  triggerIngest(): void {
    if (!this.running || !this.config.evalOnIngest || this.ingestQueued) return;
    this.ingestQueued = true;
    const wait = Math.max(0, this.lastIngestStart + this.ingestSpacing - this.clock.now());
    this.ingestTimer = setTimeout(() => {
      this.ingestTimer = undefined;
      const run = this.chain.then(async () => {
        this.ingestQueued = false;
        if (!this.running) return;
        this.lastIngestStart = this.clock.now();
        await this.iterate(this.clock.now());
      });
      this.chain = run.catch((e: unknown) => this.logger.error('ingest-triggered evaluation failed', { err: errMessage(e) }));
    }, wait);
  }

  /** Stops the loop and waits for a running iteration to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.retrain?.stop();
    this.retrain = undefined;
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    if (this.ingestTimer) clearTimeout(this.ingestTimer);
    this.ingestTimer = undefined;
    this.ingestQueued = false;
    this.wake?.();
    await this.loop;
    await this.chain;
  }

  /** Aborts queries in flight (shutdown). */
  abortQueries(): void {
    this.abort.abort(new Error('rule group stopped'));
  }

  /**
   * Takes over state from the group this one replaces on reload: alert state, health and
   * previous-series sets of rules with the same kind, name, labels and expression; series of
   * old rules without a match get stale markers at the next evaluation.
   */
  copyState(from: RuleGroup): void {
    const byId = new Map<string, number[]>();
    from.ruleList.forEach((r, i) => {
      const id = ruleIdentity(r.config);
      byId.set(id, [...(byId.get(id) ?? []), i]);
    });
    const used = new Set<number>();
    this.ruleList.forEach((r, i) => {
      const idx = byId.get(ruleIdentity(r.config));
      const fi = idx?.shift();
      if (fi === undefined) return;
      used.add(fi);
      this.prevSeries[i] = from.prevSeries[fi]!;
      const old = from.ruleList[fi]!;
      if (r instanceof AlertingRule && old instanceof AlertingRule) r.copyStateFrom(old);
      else if (r instanceof RecordingRule && old instanceof RecordingRule) r.copyStateFrom(old);
      else if (r instanceof ForecastRule && old instanceof ForecastRule) r.copyStateFrom(old);
      else if (r instanceof AnomalyRule && old instanceof AnomalyRule) r.copyStateFrom(old);
    });
    from.prevSeries.forEach((m, i) => {
      if (!used.has(i)) for (const o of m.values()) this.staleSeries.push(o.l);
    });
    this.staleSeries.push(...from.staleSeries);
    this.lastTs = from.lastTs;
    this.lastDurationMs = from.lastDurationMs;
    this.needsRestore = false;
    for (const r of this.ruleList) if (r instanceof AlertingRule) r.setRestored(true);
  }

  /** Writes stale markers for everything the group produced last (the group was removed). */
  async markAllStale(): Promise<void> {
    const run = this.chain.then(async () => {
      const ts = Math.max(this.clock.now(), this.lastTs + 1);
      const app = this.deps.appendable.appender();
      let n = 0;
      for (const m of this.prevSeries) for (const o of m.values()) (app.append(o.ref, o.l, ts, STALE_NAN), n++);
      for (const l of this.staleSeries) (app.append(0, l, ts, STALE_NAN), n++);
      this.prevSeries = this.ruleList.map(() => new Map());
      this.staleSeries = [];
      if (n > 0) await this.commit(app, '(group removed)');
      else app.rollback();
    });
    this.chain = run.catch(() => {});
    await this.chain;
  }

  /** Forgets the group's self-metrics (it was removed). */
  dropMetrics(): void {
    this.metrics.remove(this.key);
    const pm = predictiveMetrics(this.deps.registry);
    for (const r of this.ruleList) {
      if (r instanceof ForecastRule) pm.remove(r.name, r.config.horizons.map(formatHorizon));
      else if (r instanceof AnomalyRule) pm.remove(r.name);
    }
  }
}
