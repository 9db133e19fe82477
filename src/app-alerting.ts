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
import { AlertmanagerNotifier, makeNotifyFunc } from './notify/index.js';
import { Correlator, type CorrelationConfig } from './correlate/index.js';
import { annotateAlertsApi, annotateRulesApi, correlateAlerts, firstAlertName } from './correlate/wiring.js';
import { noopTracer, type VigilSpan, type VigilTracer } from './tracing/tracer.js';
import type { Engine } from './promql/engine/index.js';
import { RuleManager, alertsApiData, engineQueryFunc, rulesApiData, type RulesFilter, engineRangeQueryFunc } from './rules/index.js';
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
  /** Self-tracing (default: off). Fixed for the life of this alerting path. */
  readonly tracer?: VigilTracer;
  /** Start the groups' evaluation loops (default true; benchmarks drive {@link Alerting.evalAt} with false). */
  readonly autoStart?: boolean;
  /** Replaces the Elasticsearch client/fetch of correlators (tests). */
  readonly correlatorDeps?: Pick<import('./correlate/index.js').CorrelatorOptions, 'esClient' | 'fetch'>;
}

/** The parts of the config one tenant's alerting path uses. */
export interface AlertingView {
  readonly alerting: { readonly alertmanagers: readonly AlertmanagerConfig[]; readonly alertRelabelConfigs: readonly RelabelConfig[] };
  readonly remoteWrite: readonly RemoteWriteConfig[];
  readonly externalLabels: Readonly<Record<string, string>>;
  /** Global `evaluation_interval` (ms). */
  readonly evaluationInterval: number;
  /** The tenant's validated `correlation:` section (absent = correlation off). */
  readonly correlation?: CorrelationConfig;
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
  /** Evaluates every group once at `ts`, concurrently as their loops would (tests, benchmarks). */
  evalAt(ts: number): Promise<void>;
  /** The running correlator (undefined when correlation is off). */
  correlator(): Correlator | undefined;
  stop(): Promise<void>;
}

/** Synthesized-series key of the correlation series (not a rule group key: those contain ';'). */
const CORRELATION_KEY = '\u0000correlation';

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
  let correlator: Correlator | undefined;
  let correlatorKey = '';
  let ingestEnabled = false;
  const log = opts.logger;
  const tracer = opts.tracer ?? noopTracer;
  const manager = new RuleManager({
    query: opts.query ?? engineQueryFunc(opts.engine, opts.storage),
    // Groups open rules.group → rules.rule → rules.query spans themselves.
    ...(tracer.enabled ? { tracer } : {}),
    // Predictive rules whose expr is not a plain selector read their windows with range queries.
    queryRange: engineRangeQueryFunc(opts.engine, opts.storage),
    queryable: opts.storage,
    appendable: opts.storage,
    notify: (alerts, meta) => {
      if (alerts.length === 0 || (!notifier && !correlator)) return;
      const alertname = firstAlertName(alerts);
      // meta.span is the rules.rule span of the evaluation (it came from this tracer).
      const parent = meta.span as VigilSpan | undefined;
      const span = tracer.enabled ? tracer.startSpan('rules.notify', { ...(parent ? { childOf: parent } : {}), tags: { alerts: alerts.length, ...(alertname !== undefined ? { alertname } : {}) } }) : undefined;
      try {
        // Correlation never waits: request() queues background work, annotate() reads its cache.
        const out = correlator ? correlateAlerts(alerts, correlator, span) : alerts;
        if (notifier) makeNotifyFunc(notifier)(out, meta);
      } finally {
        span?.finish();
      }
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
    ...(opts.autoStart !== undefined ? { autoStart: opts.autoStart } : {}),
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
              tracer,
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
      const coKey = view.correlation ? JSON.stringify(view.correlation) : '';
      if (coKey !== correlatorKey) {
        correlator?.stop();
        correlator = view.correlation
          ? new Correlator({
              config: view.correlation,
              storage: opts.storage,
              registry: opts.registry,
              logger: log,
              clock: opts.clock,
              tracer,
              ...(opts.correlatorDeps ?? {}),
            })
          : undefined;
        correlatorKey = coKey;
        if (correlator) log.info('correlation enabled', { elasticsearch: view.correlation?.elasticsearch !== undefined, jaeger: view.correlation?.jaeger !== undefined });
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
            append: (ref, labels, t, v, st) => note(app.append(ref, labels, t, v, st), labels),
            appendHistogram: (ref, labels, t, h, st) => note(app.appendHistogram(ref, labels, t, h, st), labels),
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

    exposition: async (registry, tenantLabel) => {
      // Correlation results as series (vigil_alert_correlated_*), refreshed at each exposition.
      if (correlator) synthesized.publish(CORRELATION_KEY, opts.clock.now(), correlator.series(opts.clock.now()));
      else synthesized.drop(CORRELATION_KEY);
      return synthesized.exposition({ exclude: new Set(registry.getMetricsAsArray().map((m) => m.name)), ...(tenantLabel !== undefined ? { tenantLabel } : {}) });
    },
    counts: () => {
      const gs = manager.groups();
      return { groups: gs.length, rules: gs.reduce((n, g) => n + g.config.rules.length, 0) };
    },
    rules: (filter) => annotateRulesApi(rulesApiData(manager.groups(), filter ?? {}), correlator),
    alerts: () => annotateAlertsApi(alertsApiData(manager.groups()), correlator),
    correlator: () => correlator,
    evalAt: async (ts) => {
      await Promise.all(manager.groups().map((g) => g.evalAt(ts)));
    },

    async stop() {
      await manager.stop();
      correlator?.stop();
      await notifier?.flush(5000).catch(() => {});
      await notifier?.stop();
      await sender?.flush(5000).catch(() => {});
      await sender?.stop();
    },
  };
}
