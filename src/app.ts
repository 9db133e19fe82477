/**
 * Application wiring and lifecycle — the one place that knows the concrete classes:
 * config → registry → web server (not ready) → storage (WAL replay) → engine (ready) →
 * remote-write receiver, scrape manager, host collector. `reload()` (SIGHUP, `POST /-/reload`)
 * re-reads the config and keeps the old one when the new one is bad; `stop()` shuts down in
 * reverse order (scrapes end with staleness markers, the WAL is closed last).
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { defaultConfig } from './config/default.js';
import { formatDuration } from './config/duration.js';
import { loadConfigFile, type LoadedConfig } from './config/loader.js';
import { redactConfigYaml } from './config/redact.js';
import type { HostConfig, StorageConfig, VigilConfig } from './config/types.js';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { loadRuleFiles } from './config/rule-files.js';
import { Tenants } from './app-tenants.js';
import { Authenticator, loadWebConfig, watchWebConfig, type WebConfig } from './tenancy/auth.js';
import { HostCollector } from './ingest/host/index.js';
import { ScrapeManager, type TargetInfo } from './ingest/scrape/index.js';
import { systemClock, type Clock } from './model/clock.js';
import { ValidationError } from './model/errors.js';
import { nopLogger, type Logger } from './model/logger.js';
import { formatExposition } from './model/metric-family.js';
import { formatValue } from './promql/engine/format.js';
import { parseMetricSelector } from './promql/parser/index.js';
import { buildInfo } from './web/build-info.js';
import { createTracer, type VigilTracer } from './tracing/tracer.js';
import type { CorrelatorOptions } from './correlate/index.js';
import { startWebServer, type WebServer } from './web/server.js';
import type { ApiDroppedTarget, ApiTarget, ListenerTls, ServerLimits } from './web/types.js';

/** Options of {@link startApp} (the `vigil run` flags). */
export interface AppOptions {
  /** Config file; undefined = the embedded default configuration. */
  readonly configFile?: string;
  /** Default `0.0.0.0:9477`. */
  readonly listenAddress?: string;
  readonly externalUrl?: string;
  /** WAL directory. */
  readonly storagePath: string;
  /** Default 24h. */
  readonly retentionMs?: number;
  /** Overrides `storage.wal_fsync` of the config file when set. */
  readonly walFsync?: StorageConfig['walFsync'];
  /** Default 5m. */
  readonly lookbackDeltaMs?: number;
  /** Default 2m. */
  readonly queryTimeoutMs?: number;
  /** Default 50,000,000. */
  readonly maxSamples?: number;
  /** `--rules.alert.resend-delay` (default 1m). */
  readonly resendDelayMs?: number;
  /** `--rules.alert.for-outage-tolerance` (default 1h). */
  readonly outageToleranceMs?: number;
  /** `--rules.alert.for-grace-period` (default 10m). */
  readonly gracePeriodMs?: number;
  /** Flag values for `/api/v1/status/flags`. */
  readonly flags?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Registry for `/metrics` (default: a new one with Node's default metrics). */
  readonly registry?: Registry;
  /** `--web.config.file`: authentication (credentials) and listener TLS, reloaded on change. */
  readonly webConfigFile?: string;
  /** Poll interval of the web config file and TLS files (default 2 s). */
  readonly webConfigPollMs?: number;
  /** Hostile-input bounds of the HTTP server. */
  readonly serverLimits?: ServerLimits;
  /** Self-tracing tracer to use instead of the one built from the `tracing:` section (tests). */
  readonly tracer?: VigilTracer;
  /** Replaces the correlators' Elasticsearch client / fetch (tests). */
  readonly correlatorDeps?: Pick<CorrelatorOptions, 'esClient' | 'fetch'>;
}

/** A running vigil. */
export interface App {
  /** Base URL of the HTTP server (loopback address when listening on all interfaces). */
  readonly url: string;
  /** Re-reads the config; rejects (keeping the old config) when it is invalid. */
  reload(): Promise<void>;
  /** Graceful shutdown. Idempotent. */
  stop(): Promise<void>;
}

function loadConfig(file: string | undefined): Promise<LoadedConfig> {
  return file === undefined ? Promise.resolve(defaultConfig()) : loadConfigFile(file);
}

/**
 * Creates the storage directory one component at a time and checks it is a writable
 * directory. (Recursive mkdir on some pseudo file systems such as /proc never returns on
 * Node 20, so a bad --storage.path must be caught here with a clear message.)
 */
export async function ensureStorageDir(dir: string): Promise<void> {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let p = abs;
  for (;;) {
    try {
      const st = await stat(p);
      if (!st.isDirectory()) throw new ValidationError(`storage path ${JSON.stringify(dir)}: ${p} is not a directory`);
      break;
    } catch (e) {
      if (e instanceof ValidationError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new ValidationError(`storage path ${JSON.stringify(dir)}: a component of it is not a directory`, { cause: e });
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ValidationError(`storage path ${JSON.stringify(dir)}: ${(e as Error).message}`, { cause: e });
      missing.push(p);
      const parent = path.dirname(p);
      if (parent === p) break;
      p = parent;
    }
  }
  for (const m of missing.reverse()) {
    try {
      await mkdir(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ValidationError(`cannot create storage directory ${JSON.stringify(dir)}: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    await access(abs, constants.W_OK);
  } catch (e) {
    throw new ValidationError(`storage directory ${JSON.stringify(dir)} is not writable: ${(e as Error).message}`, { cause: e });
  }
}

function rfc3339(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '0001-01-01T00:00:00Z';
}

/** Maps the scrape manager's target info to the API's JSON shape. */
export function toApiTarget(t: TargetInfo): ApiTarget {
  return {
    discoveredLabels: t.discoveredLabels,
    labels: t.labels,
    scrapePool: t.scrapePool,
    scrapeUrl: t.scrapeUrl,
    globalUrl: t.scrapeUrl,
    lastError: t.lastError,
    lastScrape: rfc3339(t.lastScrape),
    lastScrapeDuration: t.lastScrapeDurationSeconds,
    health: t.health,
    scrapeInterval: formatDuration(t.scrapeIntervalMs),
    scrapeTimeout: formatDuration(t.scrapeTimeoutMs),
  };
}

/** Starts vigil. Rejects (after cleaning up) when the config is bad or a component cannot start. */
export async function startApp(opts: AppOptions): Promise<App> {
  const logger = opts.logger ?? nopLogger;
  const clock = opts.clock ?? systemClock;
  const startTime = clock.now();
  let loaded = await loadConfig(opts.configFile);
  let lastReloadOk = true;
  let lastConfigTime = startTime;
  logger.info('loaded configuration', { file: loaded.file });

  // --- metrics registry -------------------------------------------------------------------
  const registry = opts.registry ?? new Registry();
  if (!opts.registry) collectDefaultMetrics({ register: registry });
  const reloadOk = new Gauge({ name: 'vigil_config_last_reload_successful', help: 'Whether the last configuration reload attempt was successful.', registers: [registry] });
  const reloadTs = new Gauge({ name: 'vigil_config_last_reload_success_timestamp_seconds', help: 'Timestamp of the last successful configuration reload.', registers: [registry] });
  const bi = buildInfo();
  new Gauge({ name: 'vigil_build_info', help: 'A metric with a constant 1 labeled by version, revision, branch and runtime version from which vigil was built.', labelNames: ['version', 'revision', 'branch', 'goversion'], registers: [registry] })
    .labels(bi.version, bi.revision, bi.branch, bi.goVersion)
    .set(1);
  reloadOk.set(1);
  reloadTs.set(Math.floor(startTime / 1000));

  // --- self-tracing (the `tracing:` section; changes take effect after a restart) -------------
  const tracer: VigilTracer = opts.tracer ?? createTracer(loaded.config.tracing, { logger });
  if (tracer.enabled) logger.info('self-tracing enabled', { reporter: loaded.config.tracing?.reporter.kind ?? 'custom' });

  // --- components that change with the config -----------------------------------------------
  let scrapes: ScrapeManager | undefined;
  let host: HostCollector | undefined;
  let hostCfg: HostConfig | undefined;
  let hostMetricsRegistered = false;
  let tenants: Tenants | undefined;
  const retentionMs = opts.retentionMs ?? 24 * 3600_000;
  const queryTimeoutMs = opts.queryTimeoutMs ?? 120_000;

  // --- web config (authentication, TLS), reloaded when the file changes ------------------------
  let webCfg: WebConfig | undefined = opts.webConfigFile ? await loadWebConfig(opts.webConfigFile) : undefined;
  let auth = webCfg ? new Authenticator(webCfg) : undefined;
  const tlsOf = (c: WebConfig | undefined): ListenerTls | undefined => {
    const t = c?.tls;
    if (!t) return undefined;
    return {
      options: () => {
        const cur = webCfg?.tls ?? t;
        return {
          cert: readFileSync(cur.certFile),
          key: readFileSync(cur.keyFile),
          ...(cur.clientCaFile ? { ca: readFileSync(cur.clientCaFile) } : {}),
          requestCert: cur.clientAuthType !== 'NoClientCert',
          rejectUnauthorized: cur.clientAuthType === 'RequireAndVerifyClientCert',
        };
      },
    };
  };
  const listenerTls = tlsOf(webCfg);

  const applyHost = (cfg: VigilConfig): void => {
    const next = cfg.host;
    if (!tenants) return;
    if (host && hostCfg && JSON.stringify(hostCfg) === JSON.stringify(next)) return;
    host?.stop();
    host = undefined;
    hostCfg = next;
    if (!next.enabled) return;
    // HOST COLLECTOR HOOK: node_exporter-compatible metrics appended every `host.interval`.
    host = new HostCollector({
      procfs: next.procfs,
      sysfs: next.sysfs,
      rootfs: next.rootfs,
      collectors: next.collectors,
      appendable: tenants.default.alerting.ingestAppendable(tenants.default.storage.head),
      intervalMs: next.interval,
      // Stored host series carry the labels a scrape of node_exporter on this node would get.
      targetLabels: { job: 'node', instance: process.env.NODE_NAME || hostname() },
      clock,
      // Its self-metrics can be registered once per registry.
      ...(hostMetricsRegistered ? {} : { registry }),
      logger: logger.with({ component: 'host' }),
    });
    hostMetricsRegistered = true;
    host.start();
  };

  const apply = async (cfg: VigilConfig, previous?: VigilConfig): Promise<void> => {
    if (previous && JSON.stringify(previous.receiver) !== JSON.stringify(cfg.receiver) && cfg.receiver.enabled && previous.receiver.enabled) {
      logger.warn('remote_write_receiver size limits take effect after a restart');
    }
    if (previous && JSON.stringify(previous.tracing) !== JSON.stringify(cfg.tracing)) logger.warn('tracing: changes take effect after a restart');
    await scrapes?.applyConfig(cfg.global, cfg.scrapeConfigs);
    applyHost(cfg);
    if (tenants) {
      const baseDir = opts.configFile ? path.dirname(path.resolve(opts.configFile)) : process.cwd();
      const { groups, errors } = await loadRuleFiles([...cfg.ruleFiles], baseDir);
      if (errors.length > 0) throw new ValidationError(`error loading rule files:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
      await tenants.applyRules(groups);
    }
  };

  // --- web server first, so /-/ready answers 503 during WAL replay ---------------------------
  const web: WebServer = await startWebServer({
    listenAddress: opts.listenAddress ?? '0.0.0.0:9477',
    ...(listenerTls ? { tls: listenerTls } : {}),
    ...(opts.serverLimits ? { serverLimits: opts.serverLimits } : {}),
    tenancy: {
      resolve: (req) => (tenants ? tenants.resolve(req) : Promise.resolve({ status: 503, message: 'vigil is starting up (WAL replay in progress)', headers: { 'Retry-After': '5' } })),
      backend: (t) => tenants!.backend(t),
      admitQuery: (t) => tenants!.admitQuery(t),
    },
    metricsFor: (t) =>
      tenants
        ? tenants.metrics(t, async () => {
            // Synthesized series of the default tenant and, when enabled, the host metrics.
            const synth = await tenants!.default.alerting.exposition(registry);
            if (!host || !hostCfg?.exposeOnMetrics) return synth;
            return synth + formatExposition(await host.collect());
          })
        : registry.metrics(),
    registry,
    parseMatchers: (s) => parseMetricSelector(s),
    formatValue,
    queryTimeoutMs,
    buildInfo: bi,
    flags: opts.flags ?? {},
    configYaml: () => redactConfigYaml(loaded.text),
    runtimeInfo: () => ({
      startTime: new Date(startTime).toISOString(),
      CWD: process.cwd(),
      reloadConfigSuccess: lastReloadOk,
      lastConfigTime: new Date(lastConfigTime).toISOString(),
      storageRetention: formatDuration(retentionMs),
      nodeVersion: process.version,
      pid: process.pid,
      ...(opts.externalUrl ? { externalUrl: opts.externalUrl } : {}),
    }),
    reload: () => app.reload(),
    targets: () => ({
      activeTargets: (scrapes?.targets() ?? []).map(toApiTarget),
      droppedTargets: (scrapes?.droppedTargets() ?? []).map((d): ApiDroppedTarget => ({ discoveredLabels: d.discoveredLabels })),
    }),
    remoteWrite: (t) => (tenants && t ? tenants.remoteWrite(t) : undefined),
    rules: (params, t) => {
      const type = params.get('type');
      return tenants?.runtime(t?.tenant ?? tenants.defaultTenant)?.alerting.rules({
        ...(type === 'alert' || type === 'record' ? { type } : {}),
        ...(params.getAll('rule_name[]').length ? { ruleNames: params.getAll('rule_name[]') } : {}),
        ...(params.getAll('rule_group[]').length ? { groupNames: params.getAll('rule_group[]') } : {}),
        ...(params.getAll('file[]').length ? { files: params.getAll('file[]') } : {}),
        ...(params.get('exclude_alerts') === 'true' ? { excludeAlerts: true } : {}),
      }) ?? { groups: [] };
    },
    alerts: (t) => tenants?.runtime(t?.tenant ?? tenants.defaultTenant)?.alerting.alerts() ?? { alerts: [] },
    clock,
    logger: logger.with({ component: 'web' }),
  });
  logger.info('listening', { url: web.url, address: opts.listenAddress ?? '0.0.0.0:9477' });

  // --- storage (WAL replay), engine, ingest ------------------------------------------------------
  try {
    const t0 = Date.now();
    await ensureStorageDir(opts.storagePath);
    tenants = new Tenants({
      storagePath: opts.storagePath,
      retentionMs,
      config: () => loaded.config,
      fsync: () => opts.walFsync ?? loaded.config.storage.walFsync,
      registry,
      clock,
      logger,
      lookbackDeltaMs: opts.lookbackDeltaMs ?? 300_000,
      queryTimeoutMs,
      maxSamples: opts.maxSamples ?? 50_000_000,
      externalUrl: opts.externalUrl ?? `http://${hostname()}:${web.port}`,
      resendDelayMs: opts.resendDelayMs ?? 60_000,
      outageToleranceMs: opts.outageToleranceMs ?? 3_600_000,
      gracePeriodMs: opts.gracePeriodMs ?? 600_000,
      auth: () => auth,
      tracer,
      ...(opts.correlatorDeps ? { correlatorDeps: opts.correlatorDeps } : {}),
    });
    await tenants.open();
    logger.info('storage ready (WAL replayed)', { dir: opts.storagePath, tenants: tenants.storages.tenants().length, ms: Date.now() - t0 });
    const def = tenants.default;
    scrapes = new ScrapeManager({ appendable: def.alerting.ingestAppendable(def.storage.head), clock, registry, logger: logger.with({ component: 'scrape' }) });
    await apply(loaded.config);
    web.setBackend({ storage: def.storage.head, engine: tenants.engine(def.tenant) });
    logger.info('vigil is ready');
  } catch (e) {
    await web.close(0);
    host?.stop();
    await scrapes?.stop().catch(() => {});
    await tenants?.stop().catch(() => {});
    await tracer.close().catch(() => {});
    throw e;
  }

  const stopWatch = opts.webConfigFile
    ? watchWebConfig(opts.webConfigFile, webCfg!, {
        ...(opts.webConfigPollMs !== undefined ? { intervalMs: opts.webConfigPollMs } : {}),
        logger,
        extraFiles: (c) => (c.tls ? [c.tls.certFile, c.tls.keyFile, ...(c.tls.clientCaFile ? [c.tls.clientCaFile] : [])] : []),
        onChange: (c) => {
          webCfg = c;
          auth = new Authenticator(c);
          if (listenerTls && c.tls) {
            try {
              web.reloadTls();
            } catch (e) {
              logger.error('TLS certificate reload failed, keeping the old one', { err: (e as Error).message });
            }
          }
        },
      })
    : undefined;
  let reloading: Promise<void> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const app: App = {
    url: web.url,
    reload() {
      const run = async (): Promise<void> => {
        let next: LoadedConfig;
        try {
          next = await loadConfig(opts.configFile);
        } catch (e) {
          lastReloadOk = false;
          reloadOk.set(0);
          logger.error('error reloading config, keeping the old one', { err: e });
          throw e;
        }
        const previous = loaded.config;
        loaded = next;
        try {
          await apply(next.config, previous);
        } catch (e) {
          lastReloadOk = false;
          reloadOk.set(0);
          logger.error('error applying reloaded config', { err: e });
          throw e;
        }
        lastReloadOk = true;
        lastConfigTime = clock.now();
        reloadOk.set(1);
        reloadTs.set(Math.floor(lastConfigTime / 1000));
        logger.info('configuration reloaded', { file: next.file });
      };
      const p = reloading.then(run, run);
      reloading = p.catch(() => {});
      return p;
    },
    stop() {
      stopping ??= (async () => {
        logger.info('stopping vigil');
        await reloading;
        stopWatch?.();
        await web.close();
        host?.stop();
        await scrapes?.stop(); // ends every target with staleness markers
        await tenants?.stop(); // flushes notifications and remote-write, then closes every WAL
        await tracer.close(); // flushes buffered spans
        logger.info('vigil stopped');
      })();
      return stopping;
    },
  };
  return app;
}
