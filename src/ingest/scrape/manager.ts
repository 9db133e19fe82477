/**
 * The scrape manager: one pool per `scrape_configs` job, fed by static configs, file_sd and
 * kubernetes_sd (roles pod and node),
 * with one {@link ScrapeLoop} per target. Config reloads keep loops of unchanged targets (and
 * hand their staleness state to the replacement when the job's config changed); targets that
 * disappear get staleness markers.
 */
import type { Registry } from 'prom-client';
import type { GlobalConfig, ScrapeConfig } from '../../config/types.js';
import { systemClock, type Clock } from '../../model/clock.js';
import { labelsToObject } from '../../model/labels.js';
import { nopLogger, type Logger } from '../../model/logger.js';
import { compileRelabel, type CompiledRelabel } from '../../model/relabel.js';
import type { Appendable } from '../../storage/interface.js';
import { FileSD } from './file-sd.js';
import { KubernetesSD, type KubernetesSDOptions } from './kubernetes/discovery.js';
import { ScrapeMetrics } from './metrics.js';
import { ScrapeLoop, type ScrapeFetch, type ScrapeLoopState, type TargetHealth } from './scrape-loop.js';
import { buildTargets, staticGroups, type DroppedTarget, type ScrapeTarget } from './targets.js';

/** Options of {@link ScrapeManager}. */
export interface ScrapeManagerOptions {
  readonly appendable: Appendable;
  readonly clock?: Clock;
  /** prom-client registry for the `vigil_scrape_*` metrics (a private one by default). */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Replaces the HTTP fetch (tests). */
  readonly fetch?: ScrapeFetch;
  /** Runtime options of `kubernetes_sd_configs` discovery (env, in-cluster paths, backoff, delays). */
  readonly kubernetes?: Omit<KubernetesSDOptions, 'onChange' | 'logger' | 'registry'>;
}

/** One active target, as `/api/v1/targets` shows it. */
export interface TargetInfo {
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly labels: Record<string, string>;
  readonly discoveredLabels: Record<string, string>;
  readonly health: TargetHealth;
  readonly lastError: string;
  /** ms since the epoch; 0 before the first scrape. */
  readonly lastScrape: number;
  readonly lastScrapeDurationSeconds: number;
  readonly scrapeIntervalMs: number;
  readonly scrapeTimeoutMs: number;
}

/** Fills interval/timeout from the global config when a job leaves them at 0. */
function effective(cfg: ScrapeConfig, g: GlobalConfig): ScrapeConfig {
  const scrapeInterval = cfg.scrapeInterval > 0 ? cfg.scrapeInterval : g.scrapeInterval;
  let scrapeTimeout = cfg.scrapeTimeout > 0 ? cfg.scrapeTimeout : g.scrapeTimeout;
  if (scrapeTimeout > scrapeInterval) scrapeTimeout = scrapeInterval;
  return { ...cfg, scrapeInterval, scrapeTimeout };
}

class ScrapePool {
  readonly loops = new Map<string, ScrapeLoop>();
  dropped: DroppedTarget[] = [];
  private readonly fileSDs: FileSD[];
  /** Kubernetes discovery of this job (hook: same lifecycle as file_sd). */
  private readonly kubeSDs: KubernetesSD[];
  private readonly targetRelabel: CompiledRelabel;
  private readonly metricRelabel: CompiledRelabel;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;
  private started = false;

  constructor(
    readonly cfg: ScrapeConfig,
    readonly sig: string,
    private readonly deps: Required<Omit<ScrapeManagerOptions, 'registry' | 'fetch' | 'kubernetes'>> & { metrics: ScrapeMetrics; fetch?: ScrapeFetch; kubernetes?: KubernetesSDOptions },
  ) {
    this.targetRelabel = compileRelabel(cfg.relabelConfigs);
    this.metricRelabel = compileRelabel(cfg.metricRelabelConfigs);
    this.fileSDs = cfg.fileSdConfigs.map((f) => new FileSD(f, { logger: deps.logger, onChange: () => void this.sync() }));
    this.kubeSDs = (cfg.kubernetesSdConfigs ?? []).map((k) => new KubernetesSD(k, { ...deps.kubernetes, logger: deps.logger, onChange: () => void this.sync() }));
  }

  /** Target groups of all discovery sources. */
  private discoveredGroups(): ReturnType<typeof staticGroups> {
    return [...staticGroups(this.cfg), ...this.fileSDs.flatMap((f) => f.groups()), ...this.kubeSDs.flatMap((k) => k.groups())];
  }

  /** Computes the targets (reading file_sd once) without starting anything. */
  async discover(): Promise<ScrapeTarget[]> {
    await Promise.all([...this.fileSDs.map((f) => f.refresh()), ...this.kubeSDs.map((k) => k.refresh())]);
    const groups = this.discoveredGroups();
    const { active, dropped } = buildTargets(this.cfg, groups, this.targetRelabel);
    this.dropped = dropped;
    return active;
  }

  /** Starts loops for `targets`, adopting state of replaced loops, and starts file_sd. */
  async start(targets: readonly ScrapeTarget[], adopted: ReadonlyMap<string, ScrapeLoopState>): Promise<void> {
    this.started = true;
    for (const t of targets) this.startLoop(t, adopted.get(t.key));
    this.deps.metrics.targets.set({ job: this.cfg.jobName }, this.loops.size);
    for (const f of this.fileSDs) await f.start();
    for (const k of this.kubeSDs) await k.start();
    // Kubernetes changes that arrived between discover() and now were not applied yet.
    if (this.kubeSDs.length > 0) void this.sync();
  }

  private startLoop(t: ScrapeTarget, previous?: ScrapeLoopState): void {
    const d = this.deps;
    const loop = new ScrapeLoop({
      target: t,
      config: this.cfg,
      appendable: d.appendable,
      metricRelabel: this.metricRelabel,
      clock: d.clock,
      logger: d.logger,
      metrics: d.metrics,
      ...(previous ? { previous } : {}),
      ...(d.fetch ? { fetch: d.fetch } : {}),
    });
    this.loops.set(t.key, loop);
    loop.start();
  }

  /** Re-reads discovery output and reconciles loops (serialised). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      if (this.stopped || !this.started) return;
      try {
        const groups = this.discoveredGroups();
        const { active, dropped } = buildTargets(this.cfg, groups, this.targetRelabel);
        this.dropped = dropped;
        const keep = new Set(active.map((t) => t.key));
        const gone = [...this.loops.entries()].filter(([k]) => !keep.has(k));
        for (const [k] of gone) this.loops.delete(k);
        await Promise.all(gone.map(([, l]) => l.stop({ markStale: true })));
        for (const t of active) if (!this.loops.has(t.key)) this.startLoop(t);
        this.deps.metrics.targets.set({ job: this.cfg.jobName }, this.loops.size);
      } catch (err) {
        this.deps.logger.error('scrape pool sync failed', { job: this.cfg.jobName, err });
      }
    });
    return this.syncing;
  }

  /** Stops discovery and loops; loops whose key is in `handover` are stopped without staleness and their state returned. */
  async stop(handover: ReadonlySet<string> = new Set()): Promise<Map<string, ScrapeLoopState>> {
    this.stopped = true;
    for (const f of this.fileSDs) f.stop();
    for (const k of this.kubeSDs) k.stop();
    await this.syncing;
    const states = new Map<string, ScrapeLoopState>();
    await Promise.all(
      [...this.loops].map(async ([k, l]) => {
        const keep = handover.has(k);
        await l.stop({ markStale: !keep });
        if (keep) states.set(k, l.state());
      }),
    );
    this.loops.clear();
    return states;
  }
}

/** Runs the scrape pools of all jobs. */
export class ScrapeManager {
  private readonly pools = new Map<string, ScrapePool>();
  private readonly metrics: ScrapeMetrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ScrapeManagerOptions) {
    this.metrics = new ScrapeMetrics(opts.registry);
    this.logger = (opts.logger ?? nopLogger).with({ component: 'scrape' });
    this.clock = opts.clock ?? systemClock;
  }

  /** Applies a (re)loaded configuration. Calls are serialised. */
  applyConfig(global: GlobalConfig, scrapeConfigs: readonly ScrapeConfig[]): Promise<void> {
    const run = this.applying.then(() => this.doApply(global, scrapeConfigs));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async doApply(global: GlobalConfig, scrapeConfigs: readonly ScrapeConfig[]): Promise<void> {
    const wanted = new Map<string, ScrapeConfig>();
    for (const c of scrapeConfigs) {
      if (wanted.has(c.jobName)) throw new Error(`duplicate scrape job name ${JSON.stringify(c.jobName)}`);
      wanted.set(c.jobName, effective(c, global));
    }
    for (const [job, pool] of [...this.pools]) {
      if (wanted.has(job)) continue;
      this.pools.delete(job);
      await pool.stop();
      this.metrics.targets.remove({ job });
    }
    for (const [job, cfg] of wanted) {
      const sig = JSON.stringify(cfg);
      const old = this.pools.get(job);
      if (old && old.sig === sig) continue;
      const pool = new ScrapePool(cfg, sig, {
        appendable: this.opts.appendable,
        clock: this.clock,
        logger: this.logger,
        metrics: this.metrics,
        ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
        kubernetes: { ...this.opts.kubernetes, ...(this.opts.registry ? { registry: this.opts.registry } : {}) },
      });
      const targets = await pool.discover();
      const adopted = old ? await old.stop(new Set(targets.map((t) => t.key))) : new Map<string, ScrapeLoopState>();
      this.pools.set(job, pool);
      await pool.start(targets, adopted);
      this.logger.info('scrape job configured', { job, targets: targets.length });
    }
  }

  /** Active targets of all jobs. */
  targets(): TargetInfo[] {
    const out: TargetInfo[] = [];
    for (const pool of this.pools.values()) {
      for (const loop of pool.loops.values()) {
        const t = loop.target;
        const r = loop.lastReport();
        out.push({
          scrapePool: t.job,
          scrapeUrl: t.url,
          labels: labelsToObject(t.labels),
          discoveredLabels: labelsToObject(t.discoveredLabels),
          health: loop.health(),
          lastError: r?.error ?? '',
          lastScrape: r?.timestamp ?? 0,
          lastScrapeDurationSeconds: r?.durationSeconds ?? 0,
          scrapeIntervalMs: t.intervalMs,
          scrapeTimeoutMs: t.timeoutMs,
        });
      }
    }
    return out;
  }

  /** Targets dropped by relabeling or invalid. */
  droppedTargets(): { scrapePool: string; discoveredLabels: Record<string, string>; reason: string }[] {
    return [...this.pools.values()].flatMap((p) => p.dropped.map((d) => ({ scrapePool: d.job, discoveredLabels: labelsToObject(d.discoveredLabels), reason: d.reason })));
  }

  /** Scrapes every active target once now (tests, `vigil` one-shot modes). */
  async scrapeAllOnce(): Promise<void> {
    await Promise.all([...this.pools.values()].flatMap((p) => [...p.loops.values()].map((l) => l.scrapeOnce())));
  }

  /** Stops everything; every target's series get staleness markers. */
  async stop(): Promise<void> {
    await this.applying;
    const pools = [...this.pools];
    this.pools.clear();
    await Promise.all(pools.map(([, p]) => p.stop()));
    for (const [job] of pools) this.metrics.targets.remove({ job });
  }
}
