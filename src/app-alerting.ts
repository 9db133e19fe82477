/**
 * Application wiring of the alerting path of one tenant: rule groups → rule manager (engine
 * queries against the tenant's head only) → outputs appended to that head, published to
 * /metrics (synthesized series) and to `remote_write` URLs, alerts sent to the tenant's
 * Alertmanagers. Split from app.ts to keep each file small; like app.ts it is allowed to know
 * concrete classes. Rule files are loaded (and split by tenant) by app.ts.
 */
import type { Registry } from 'prom-client';
import type { AlertmanagerConfig, RelabelConfig, RemoteWriteConfig } from './config/types.js';
import { RemoteWriteSender, SynthesizedSeries } from './export/index.js';
import type { Clock } from './model/clock.js';
import { labelsGet, METRIC_NAME, type Labels } from './model/labels.js';
import type { Logger } from './model/logger.js';
import { AlertmanagerNotifier } from './notify/index.js';
import type { Engine } from './promql/engine/index.js';
import { RuleManager, alertsApiData, engineQueryFunc, notifierFunc, rulesApiData, type RulesFilter } from './rules/index.js';
import type { Sample } from './promql/engine/values.js';
import type { QueryFunc, RuleGroupConfig, SeriesSink } from './rules/rule.js';
import type { Appendable, Appender, Storage } from './storage/interface.js';

/** Options of {@link createAlerting}. */
export interface AlertingOptions {
  readonly engine: Engine;
  readonly storage: Storage;
  /** Query function of the rules (default: `engine` over `storage`); lets app.ts apply the tenant's current query limits. */
  readonly query?: QueryFunc;
  /** Owning tenant; undefined = the default tenant (its series carry no tenant label). */
  readonly tenant?: string;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly externalUrl: string;
  readonly resendDelayMs: number;
  readonly outageToleranceMs: number;
  readonly gracePeriodMs: number;
}

/** The parts of the config one tenant's alerting path uses. */
export interface AlertingView {
  readonly alerting: { readonly alertmanagers: readonly AlertmanagerConfig[]; readonly alertRelabelConfigs: readonly RelabelConfig[] };
  readonly remoteWrite: readonly RemoteWriteConfig[];
  readonly externalLabels: Readonly<Record<string, string>>;
  /** Global `evaluation_interval` (ms). */
  readonly evaluationInterval: number;
}

/** The running alerting path. */
export interface Alerting {
  /** Applies the tenant's rule groups and outputs (hot reload: unchanged groups keep running). */
  apply(view: AlertingView, groups: RuleGroupConfig[]): Promise<void>;
  /** An appendable that tells `eval_on_ingest` groups which metrics were written. */
  ingestAppendable(inner: Appendable): Appendable;
  /** Synthesized series in text exposition, minus families the registry already has; `tenantLabel` is added to a tenant's series. */
  exposition(registry: Registry, tenantLabel?: string): Promise<string>;
  /** Number of groups and rules running. */
  counts(): { groups: number; rules: number };
  rules(filter?: RulesFilter): unknown;
  alerts(): unknown;
  stop(): Promise<void>;
}

/** Sends each group's output to several sinks. */
function fanout(sinks: () => readonly SeriesSink[]): SeriesSink {
  return {
    publish: (key: string, ts: number, series: readonly Sample[]) => {
      for (const s of sinks()) s.publish(key, ts, series);
    },
    drop: (key: string) => {
      for (const s of sinks()) s.drop(key);
    },
  };
}

/** Wires rules, notifier and exporters. */
export function createAlerting(opts: AlertingOptions): Alerting {
  const synthesized = new SynthesizedSeries({ tenantOf: () => opts.tenant });
  let notifier: AlertmanagerNotifier | undefined;
  let notifierKey = '';
  let sender: RemoteWriteSender | undefined;
  let senderKey = '';
  let ingestEnabled = false;
  const log = opts.logger;
  const manager = new RuleManager({
    query: opts.query ?? engineQueryFunc(opts.engine, opts.storage),
    queryable: opts.storage,
    appendable: opts.storage,
    notify: (alerts, meta) => {
      if (notifier) notifierFunc(notifier)(alerts, meta);
    },
    sink: fanout(() => (sender ? [synthesized, sender] : [synthesized])),
    clock: opts.clock,
    logger: log.with({ component: 'rules' }),
    registry: opts.registry,
    externalLabels: {},
    externalURL: opts.externalUrl,
    resendDelayMs: opts.resendDelayMs,
    outageToleranceMs: opts.outageToleranceMs,
    gracePeriodMs: opts.gracePeriodMs,
    defaultIntervalMs: 60_000,
  });

  return {
    async apply(view, groups) {
      const amKey = JSON.stringify([view.alerting, view.externalLabels]);
      if (amKey !== notifierKey) {
        const old = notifier;
        notifier = view.alerting.alertmanagers.length
          ? new AlertmanagerNotifier({
              alertmanagers: view.alerting.alertmanagers,
              alertRelabelConfigs: view.alerting.alertRelabelConfigs,
              externalLabels: view.externalLabels,
              registry: opts.registry,
              logger: log.with({ component: 'notifier' }),
              clock: opts.clock,
            })
          : undefined;
        notifierKey = amKey;
        if (old) void old.flush(5000).then(() => old.stop());
      }
      const rwKey = JSON.stringify([view.remoteWrite, view.externalLabels]);
      if (rwKey !== senderKey) {
        const old = sender;
        sender = view.remoteWrite.length
          ? new RemoteWriteSender({
              configs: view.remoteWrite,
              externalLabels: view.externalLabels,
              registry: opts.registry,
              logger: log.with({ component: 'remote-write-out' }),
              clock: opts.clock,
            })
          : undefined;
        senderKey = rwKey;
        if (old) void old.flush(5000).then(() => old.stop());
      }
      manager.setDefaults({
        defaultIntervalMs: view.evaluationInterval,
        externalLabels: view.externalLabels,
      });
      await manager.update(groups);
      ingestEnabled = groups.some((g) => g.evalOnIngest);
      log.info('rules loaded', { ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}), groups: groups.length, rules: groups.reduce((n, g) => n + g.rules.length, 0) });
    },

    ingestAppendable(inner) {
      // Metric names by series ref, learnt from appends that carry labels (the remote-write fast
      // path passes only a ref for series it has seen, always after one append with labels).
      const names = new Map<number, string>();
      return {
        appender(): Appender {
          const app = inner.appender();
          if (!ingestEnabled) return app;
          const touched = new Set<string>();
          const note = (ref: number, labels: Labels): number => {
            if (ref === 0) return ref;
            let n = labels.length ? labelsGet(labels, METRIC_NAME) : names.get(ref);
            if (n === undefined) return ref;
            if (labels.length && !names.has(ref)) names.set(ref, n);
            touched.add(n);
            return ref;
          };
          return {
            append: (ref, labels, t, v) => note(app.append(ref, labels, t, v), labels),
            appendHistogram: (ref, labels, t, h) => note(app.appendHistogram(ref, labels, t, h), labels),
            appendExemplar: (ref, labels, e) => app.appendExemplar(ref, labels, e),
            updateMetadata: (m, md) => app.updateMetadata(m, md),
            get counts() {
              return app.counts;
            },
            get rejected() {
              return app.rejected;
            },
            commit: async () => {
              await app.commit();
              if (touched.size) manager.notifyIngest(touched);
            },
            rollback: () => app.rollback(),
          };
        },
      };
    },

    exposition: async (registry, tenantLabel) =>
      synthesized.exposition({ exclude: new Set(registry.getMetricsAsArray().map((m) => m.name)), ...(tenantLabel !== undefined ? { tenantLabel } : {}) }),
    counts: () => {
      const gs = manager.groups();
      return { groups: gs.length, rules: gs.reduce((n, g) => n + g.config.rules.length, 0) };
    },
    rules: (filter) => rulesApiData(manager.groups(), filter ?? {}),
    alerts: () => alertsApiData(manager.groups()),

    async stop() {
      await manager.stop();
      await notifier?.flush(5000).catch(() => {});
      await notifier?.stop();
      await sender?.flush(5000).catch(() => {});
      await sender?.stop();
    },
  };
}
