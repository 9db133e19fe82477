/**
 * The host collector: runs node_exporter-compatible collectors on an interval and appends their
 * samples to storage in one transaction per tick; `collect()` serves /metrics too. A failing
 * collector is logged and counted (`vigil_host_collector_failures_total{collector}`), the others
 * go on; a tick that is still running when the next is due is skipped and counted.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Appendable } from '../../storage/interface.js';
import { nopLogger, type Logger } from '../../model/logger.js';
import { systemClock, type Clock } from '../../model/clock.js';
import type { MetricFamily } from '../../model/metric-family.js';
import { LabelsBuilder, labelsKey, type Labels } from '../../model/labels.js';
import { STALE_NAN } from '../../model/samples.js';
import type { HostCollectorFn, HostPaths } from './family.js';
import { cpuCollector, diskstatsCollector, loadavgCollector, meminfoCollector, netdevCollector, pressureCollector, statCollector } from './procfs.js';
import { filesystemCollector, timeCollector } from './filesystem.js';

/** Names of the built-in collectors. */
export const HOST_COLLECTORS = ['cpu', 'stat', 'loadavg', 'meminfo', 'diskstats', 'netdev', 'filesystem', 'pressure', 'time'] as const;

/** Options of {@link HostCollector}. */
export interface HostCollectorOptions extends HostPaths {
  /** Collector names to run; empty = all. Unknown names throw. */
  readonly collectors?: readonly string[];
  /** Where samples go; omit to only serve `collect()`. */
  readonly appendable?: Appendable;
  readonly intervalMs: number;
  readonly clock?: Clock;
  readonly registry?: Registry;
  readonly logger?: Logger;
  /**
   * Labels added to every sample appended to storage (not to `collect()`, which serves /metrics
   * where the scraping Prometheus adds its own target labels). The app sets `job` and `instance`
   * so stored host series look like a scrape of node_exporter.
   */
  readonly targetLabels?: Readonly<Record<string, string>>;
  /** Overrides for collectors (tests, flags): e.g. netdev device exclusion. */
  readonly overrides?: Partial<Record<(typeof HOST_COLLECTORS)[number], HostCollectorFn>>;
}

function builtin(name: string, clock: Clock): HostCollectorFn {
  switch (name) {
    case 'cpu':
      return cpuCollector;
    case 'stat':
      return statCollector;
    case 'loadavg':
      return loadavgCollector;
    case 'meminfo':
      return meminfoCollector;
    case 'diskstats':
      return diskstatsCollector();
    case 'netdev':
      return netdevCollector();
    case 'filesystem':
      return filesystemCollector();
    case 'pressure':
      return pressureCollector;
    case 'time':
      return timeCollector(() => clock.now());
    default:
      throw new Error(`unknown host collector ${JSON.stringify(name)} (known: ${HOST_COLLECTORS.join(', ')})`);
  }
}

/** Runs host collectors periodically. */
export class HostCollector {
  private readonly fns: HostCollectorFn[];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private previous = new Map<string, Labels>();
  private readonly failures?: Counter<'collector'>;
  private readonly missed?: Counter;
  private readonly lastDuration?: Gauge<'collector'>;

  constructor(private readonly opts: HostCollectorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? nopLogger;
    const names = opts.collectors?.length ? opts.collectors : HOST_COLLECTORS;
    this.fns = names.map((n) => opts.overrides?.[n as (typeof HOST_COLLECTORS)[number]] ?? builtin(n, this.clock));
    if (opts.registry) {
      const r = [opts.registry];
      this.failures = new Counter({ name: 'vigil_host_collector_failures_total', help: 'Host collector runs that failed, by collector.', labelNames: ['collector'], registers: r });
      this.missed = new Counter({ name: 'vigil_host_collector_ticks_missed_total', help: 'Host collection ticks skipped because the previous one was still running.', registers: r });
      this.lastDuration = new Gauge({ name: 'vigil_host_collector_duration_seconds', help: 'Duration of the last run of each host collector.', labelNames: ['collector'], registers: r });
    }
  }

  private withTarget(ls: Labels): Labels {
    const extra = this.opts.targetLabels;
    if (!extra) return ls;
    const b = new LabelsBuilder(ls);
    for (const [k, v] of Object.entries(extra)) if (!b.get(k)) b.set(k, v);
    return b.labels();
  }

  /** Runs every collector once; failing collectors are logged, counted and left out. */
  async collect(): Promise<MetricFamily[]> {
    const results = await Promise.all(
      this.fns.map(async (fn) => {
        const start = performance.now();
        try {
          return await fn.collect(this.opts);
        } catch (e) {
          this.failures?.inc({ collector: fn.name });
          this.logger.warn('host collector failed', { collector: fn.name, err: e });
          return [];
        } finally {
          this.lastDuration?.set({ collector: fn.name }, (performance.now() - start) / 1000);
        }
      }),
    );
    return results.flat();
  }

  /** One collection appended to storage at the current time. */
  async tick(): Promise<void> {
    if (!this.opts.appendable) return;
    if (this.running) {
      this.missed?.inc();
      return;
    }
    this.running = true;
    try {
      const fams = await this.collect();
      const t = this.clock.now();
      const app = this.opts.appendable.appender();
      const seen = new Map<string, Labels>();
      for (const f of fams) {
        for (const s of f.samples) {
          const labels = this.withTarget(s.labels);
          app.append(0, labels, t, s.value);
          seen.set(labelsKey(labels), labels);
        }
      }
      // Series that vanished since the last tick (an unmounted filesystem, a removed NIC) get a
      // staleness marker, as a scrape of node_exporter would give them.
      for (const [key, labels] of this.previous) if (!seen.has(key)) app.append(0, labels, t, STALE_NAN);
      await app.commit();
      this.previous = seen;
    } catch (e) {
      this.logger.error('host collection failed', { err: e });
    } finally {
      this.running = false;
    }
  }

  /** Starts the periodic loop (first tick at once). */
  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the loop. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
