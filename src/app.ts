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
import { createAlerting, type Alerting } from './app-alerting.js';
import { HostCollector } from './ingest/host/index.js';
import { createRemoteWriteHandler } from './ingest/remote-write/index.js';
import { ScrapeManager, type TargetInfo } from './ingest/scrape/index.js';
import { systemClock, type Clock } from './model/clock.js';
import { ValidationError } from './model/errors.js';
import { nopLogger, type Logger } from './model/logger.js';
import { formatExposition } from './model/metric-family.js';
import { formatValue } from './promql/engine/format.js';
import { Engine } from './promql/engine/index.js';
import { parseMetricSelector } from './promql/parser/index.js';
import type { Head } from './storage/head/index.js';
import { openStorage, type OpenedStorage } from './storage/open.js';
import { buildInfo } from './web/build-info.js';
import { startWebServer, type WebServer } from './web/server.js';
import type { ApiDroppedTarget, ApiTarget, RawHandler } from './web/types.js';

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

  // --- components that change with the config -----------------------------------------------
  let scrapes: ScrapeManager | undefined;
  let host: HostCollector | undefined;
  let hostCfg: HostConfig | undefined;
  let hostMetricsRegistered = false;
  let rwHandler: RawHandler | undefined;
  let storageRef: OpenedStorage<Head> | undefined;
  let alerting: Alerting | undefined;
  const retentionMs = opts.retentionMs ?? 24 * 3600_000;

  const applyHost = (cfg: VigilConfig): void => {
    const next = cfg.host;
    if (!storageRef) return;
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
      appendable: alerting ? alerting.ingestAppendable(storageRef.head) : storageRef.head,
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

  const ensureReceiver = (cfg: VigilConfig): void => {
    if (!cfg.receiver.enabled || rwHandler || !storageRef) return;
    const head = storageRef.head;
    rwHandler = createRemoteWriteHandler({
      appendable: alerting ? alerting.ingestAppendable(head) : head,
      hasSeries: (ref) => head.hasSeries(ref),
      maxBodyBytes: cfg.receiver.maxBodyBytes,
      maxDecompressedBytes: cfg.receiver.maxDecompressedBytes,
      registry,
      logger: logger.with({ component: 'remote-write' }),
    });
  };

  const apply = async (cfg: VigilConfig, previous?: VigilConfig): Promise<void> => {
    ensureReceiver(cfg);
    if (previous && JSON.stringify(previous.receiver) !== JSON.stringify(cfg.receiver) && cfg.receiver.enabled && previous.receiver.enabled) {
      logger.warn('remote_write_receiver size limits take effect after a restart');
    }
    await scrapes?.applyConfig(cfg.global, cfg.scrapeConfigs);
    applyHost(cfg);
    await alerting?.apply(cfg, opts.configFile);
  };

  // --- web server first, so /-/ready answers 503 during WAL replay ---------------------------
  const queryTimeoutMs = opts.queryTimeoutMs ?? 120_000;
  const web: WebServer = await startWebServer({
    listenAddress: opts.listenAddress ?? '0.0.0.0:9477',
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
    remoteWrite: () => (loaded.config.receiver.enabled ? rwHandler : undefined),
    rules: (params) => {
      const type = params.get('type');
      return alerting?.rules({
        ...(type === 'alert' || type === 'record' ? { type } : {}),
        ...(params.getAll('rule_name[]').length ? { ruleNames: params.getAll('rule_name[]') } : {}),
        ...(params.getAll('rule_group[]').length ? { groupNames: params.getAll('rule_group[]') } : {}),
        ...(params.getAll('file[]').length ? { files: params.getAll('file[]') } : {}),
        ...(params.get('exclude_alerts') === 'true' ? { excludeAlerts: true } : {}),
      }) ?? { groups: [] };
    },
    alerts: () => alerting?.alerts() ?? { alerts: [] },
    extraExposition: async () => {
      // Synthesized series (ALERTS, recording results) and, when enabled, the host metrics.
      const synth = alerting ? await alerting.exposition(registry) : '';
      if (!host || !hostCfg?.exposeOnMetrics) return synth;
      return synth + formatExposition(await host.collect());
    },
    clock,
    logger: logger.with({ component: 'web' }),
  });
  logger.info('listening', { url: web.url, address: opts.listenAddress ?? '0.0.0.0:9477' });

  // --- storage (WAL replay), engine, ingest ------------------------------------------------------
  try {
    const t0 = Date.now();
    await ensureStorageDir(opts.storagePath);
    storageRef = await openStorage({
      dir: opts.storagePath,
      retentionMs,
      fsync: opts.walFsync ?? loaded.config.storage.walFsync,
      segmentBytes: loaded.config.storage.walSegmentBytes,
      clock,
      registry,
      logger: logger.with({ component: 'storage' }),
    });
    logger.info('storage ready (WAL replayed)', { dir: opts.storagePath, ms: Date.now() - t0 });
    const engine = new Engine({
      lookbackDeltaMs: opts.lookbackDeltaMs ?? 300_000,
      maxSamples: opts.maxSamples ?? 50_000_000,
      timeoutMs: queryTimeoutMs,
      clock,
      logger: logger.with({ component: 'query' }),
    });
    alerting = createAlerting({
      engine,
      storage: storageRef.head,
      registry,
      logger,
      clock,
      externalUrl: opts.externalUrl ?? `http://${hostname()}:${web.port}`,
      resendDelayMs: opts.resendDelayMs ?? 60_000,
      outageToleranceMs: opts.outageToleranceMs ?? 3_600_000,
      gracePeriodMs: opts.gracePeriodMs ?? 600_000,
    });
    scrapes = new ScrapeManager({ appendable: alerting.ingestAppendable(storageRef.head), clock, registry, logger: logger.with({ component: 'scrape' }) });
    await apply(loaded.config);
    web.setBackend({ storage: storageRef.head, engine });
    logger.info('vigil is ready');
  } catch (e) {
    await web.close(0);
    await alerting?.stop().catch(() => {});
    host?.stop();
    await scrapes?.stop().catch(() => {});
    await storageRef?.close().catch(() => {});
    throw e;
  }

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
        await web.close();
        host?.stop();
        await alerting?.stop(); // flushes queued notifications and remote-write
        await scrapes?.stop(); // ends every target with staleness markers
        await storageRef?.close(); // flushes and closes the WAL
        logger.info('vigil stopped');
      })();
      return stopping;
    },
  };
  return app;
}
