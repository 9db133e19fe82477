/**
 * The rule manager: owns the running groups, applies reloads (unchanged groups keep running,
 * changed groups restart with their rules' state carried over, removed groups get stale
 * markers) and routes ingest notifications to `eval_on_ingest` groups.
 */
import { nopLogger, type Logger } from '../model/logger.js';
import { errMessage } from './base.js';
import { groupConfigFingerprint, groupKey, RuleGroup, type GroupDeps } from './group.js';
import type { RuleGroupConfig } from './rule.js';

/**
 * Options of the {@link RuleManager}. Predictive rules use the optional `queryRange` (non-selector
 * expressions) and `predictive` (models directory or registry, global refit schedule) of
 * {@link GroupDeps}.
 */
export interface RuleManagerDeps extends GroupDeps {
  /** Interval of groups that set none (global `evaluation_interval`). */
  readonly defaultIntervalMs: number;
  /** Minimum spacing of ingest-triggered evaluations of one group (default 20 ms). */
  readonly ingestMinSpacingMs?: number;
  /** Start groups' loops on update (default true; tests drive `evalAt` themselves with false). */
  readonly autoStart?: boolean;
}

/** Runs rule groups. */
export class RuleManager {
  private readonly byKey = new Map<string, { group: RuleGroup; fingerprint: string }>();
  private readonly logger: Logger;
  /** Group keys this manager has run: only a group's first start restores `for` state. */
  private readonly seen = new Set<string>();
  private updating: Promise<void> = Promise.resolve();
  private stopped = false;

  private deps: RuleManagerDeps;

  constructor(deps: RuleManagerDeps) {
    this.deps = deps;
    this.logger = (deps.logger ?? nopLogger).with({ component: 'rule-manager' });
  }

  /**
   * Changes the global defaults (evaluation interval, external labels) for the next
   * {@link update}; groups whose effective settings change are restarted there, keeping state.
   */
  setDefaults(d: { readonly defaultIntervalMs: number; readonly externalLabels: Readonly<Record<string, string>> }): void {
    this.deps = { ...this.deps, defaultIntervalMs: d.defaultIntervalMs, externalLabels: d.externalLabels };
  }

  /**
   * Replaces the set of groups (hot reload). Unchanged groups keep running untouched; changed
   * ones are replaced by new groups that keep the alert state of rules that still exist (same
   * kind, name, labels and expression); removed groups stop and mark their series stale.
   * A group restores alert `for` state from storage the first time it runs in this manager.
   */
  update(groups: RuleGroupConfig[]): Promise<void> {
    const run = this.updating.then(() => this.doUpdate(groups));
    this.updating = run.catch(() => {});
    return run;
  }

  private async doUpdate(groups: RuleGroupConfig[]): Promise<void> {
    if (this.stopped) throw new Error('rule manager stopped');
    const next = new Map<string, { group: RuleGroup; fingerprint: string }>();
    const toStart: RuleGroup[] = [];
    const replaced: RuleGroup[] = [];
    for (const cfg of groups) {
      const key = groupKey(cfg.file, cfg.name);
      if (next.has(key)) {
        this.logger.warn('duplicate rule group ignored', { group: cfg.name, file: cfg.file });
        continue;
      }
      const fingerprint = groupConfigFingerprint(cfg, this.deps.defaultIntervalMs) + JSON.stringify(this.deps.externalLabels);
      const old = this.byKey.get(key);
      if (old && old.fingerprint === fingerprint) {
        next.set(key, old);
        continue;
      }
      const g = new RuleGroup(cfg, this.deps, {
        defaultIntervalMs: this.deps.defaultIntervalMs,
        // A group restores its alerts' `for` state the first time this manager runs it (startup,
        // or the first config that has it — with tenancy the first update may be empty).
        restore: !old && !this.seen.has(key),
        ...(this.deps.ingestMinSpacingMs !== undefined ? { ingestMinSpacingMs: this.deps.ingestMinSpacingMs } : {}),
      });
      if (old) {
        await old.group.stop();
        g.copyState(old.group);
        replaced.push(old.group);
      }
      this.seen.add(key);
      next.set(key, { group: g, fingerprint });
      toStart.push(g);
    }
    // Predictive rules load their models now: a bad model is an error at load (that rule is
    // unhealthy, the rest of its group runs).
    await Promise.all(toStart.map((g) => g.prepare()));
    const removed = [...this.byKey].filter(([k]) => !next.has(k)).map(([, v]) => v.group);
    this.byKey.clear();
    for (const [k, v] of next) this.byKey.set(k, v);
    for (const g of removed) {
      try {
        await g.stop();
        await g.markAllStale();
        this.deps.sink?.drop(g.key);
        g.dropMetrics();
      } catch (e) {
        this.logger.error('removing rule group failed', { group: g.key, err: errMessage(e) });
      }
    }
    if (this.deps.autoStart ?? true) for (const g of toStart) g.start();
    this.logger.info('rule groups updated', { groups: next.size, started: toStart.length, replaced: replaced.length, removed: removed.length });
  }

  /** Running groups, in the order of the last update. */
  groups(): readonly RuleGroup[] {
    return [...this.byKey.values()].map((v) => v.group);
  }

  /** Ingest touched these metric names: trigger `eval_on_ingest` groups that select any of them. */
  notifyIngest(touched: Iterable<string>): void {
    const names = Array.isArray(touched) ? (touched as string[]) : [...touched];
    if (names.length === 0) return;
    for (const { group } of this.byKey.values()) {
      if (group.config.evalOnIngest && group.selects(names)) group.triggerIngest();
    }
  }

  /** Stops all groups (no stale markers: a restart continues the series). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.updating;
    const gs = this.groups();
    for (const g of gs) g.abortQueries();
    await Promise.all(gs.map((g) => g.stop()));
  }
}
