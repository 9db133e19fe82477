/**
 * Loads vigil's configuration file (Prometheus's format plus vigil's sections) into a
 * validated {@link VigilConfig}. Unknown keys are errors; every error names file and line.
 *
 * Semantics of absent sections (a file that is just `{}`): Prometheus's global defaults, no
 * scrapes, no rule files, no alertmanagers, no remote-write; the remote-write receiver is ON;
 * the host collector is OFF unless a `host:` section is present (a present section defaults to
 * `enabled: true`). That `{}` is "bare receiver + query API" is relied on by tests and benchmarks.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type {
  AlertmanagerConfig,
  FileSDConfig,
  GlobalConfig,
  HostConfig,
  HttpClientConfig,
  KubernetesSDConfig,
  KubernetesSelectorConfig,
  ReceiverConfig,
  RemoteWriteConfig,
  ScrapeConfig,
  StaticConfig,
  StorageConfig,
  VigilConfig,
} from './types.js';
import { parseDuration } from './duration.js';
import { parseRelabelList } from './relabel.js';
import { ConfigError, MAX_CONFIG_BYTES, opt, parseYaml, type YNode } from './yaml-node.js';
import { HTTP_KEYS, labelMap, parseHttpClient, parseScheme, parseScrape, parseStatic, parseUrl } from './scrape-config.js';
import { parseLimitsSection, parseTenancySection } from '../tenancy/config.js';
import { parseCorrelationConfig } from '../correlate/config.js';
import { parseTracingConfig, type TracingConfig } from '../tracing/config.js';
import { ValidationError } from '../model/errors.js';

export { ConfigError } from './yaml-node.js';

/** Defaults of the `global:` section (Prometheus's). */
export const DEFAULT_GLOBAL: GlobalConfig = {
  scrapeInterval: 60_000,
  scrapeTimeout: 10_000,
  evaluationInterval: 60_000,
  externalLabels: {},
};

/** Defaults of the `remote_write_receiver:` section. */
export const DEFAULT_RECEIVER: ReceiverConfig = {
  enabled: true,
  maxBodyBytes: 32 * 1024 * 1024,
  maxDecompressedBytes: 128 * 1024 * 1024,
};

/** Defaults of the `storage:` section (the `--storage.wal-fsync` flag overrides walFsync). */
export const DEFAULT_STORAGE: StorageConfig = { walFsync: 1000, walSegmentBytes: 128 * 1024 * 1024 };

/** Defaults of a present `host:` section. */
export const DEFAULT_HOST: HostConfig = {
  enabled: true,
  interval: 15_000,
  procfs: '/proc',
  sysfs: '/sys',
  rootfs: '/',
  collectors: [],
  exposeOnMetrics: true,
};

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Directory relative paths (rule_files, file_sd files, credential files) resolve against. Default: dirname(file). */
  readonly baseDir?: string;
}

function parseGlobal(n: YNode | undefined): GlobalConfig {
  if (!n) return DEFAULT_GLOBAL;
  const m = n.map(['scrape_interval', 'scrape_timeout', 'evaluation_interval', 'external_labels']);
  const g: GlobalConfig = {
    scrapeInterval: opt(m, 'scrape_interval', (x) => x.duration(), DEFAULT_GLOBAL.scrapeInterval),
    scrapeTimeout: opt(m, 'scrape_timeout', (x) => x.duration(), DEFAULT_GLOBAL.scrapeTimeout),
    evaluationInterval: opt(m, 'evaluation_interval', (x) => x.duration(), DEFAULT_GLOBAL.evaluationInterval),
    externalLabels: opt(m, 'external_labels', labelMap, {}),
  };
  for (const k of ['scrape_interval', 'evaluation_interval'] as const) {
    const v = k === 'scrape_interval' ? g.scrapeInterval : g.evaluationInterval;
    if (v <= 0) throw (m.get(k) ?? n).error(`global.${k} must be greater than 0`);
  }
  if (g.scrapeTimeout > g.scrapeInterval) {
    // Prometheus: a global timeout above the interval is an error only when set explicitly.
    if (m.has('scrape_timeout')) throw m.get('scrape_timeout')!.error('global.scrape_timeout is greater than global.scrape_interval');
    return { ...g, scrapeTimeout: g.scrapeInterval };
  }
  return g;
}


function parseRemoteWrite(n: YNode, i: number, res: (p: string) => string): RemoteWriteConfig {
  const m = n.map(['url', 'name', 'remote_timeout', 'headers', 'write_relabel_configs', ...HTTP_KEYS]);
  const urlNode = m.get('url');
  if (!urlNode || urlNode.isNull) throw n.error(`${n.what}: url is required`);
  const headers = opt(m, 'headers', (x) => x.strMap(), {});
  for (const h of Object.keys(headers)) {
    const lower = h.toLowerCase();
    if (['content-encoding', 'content-type', 'user-agent', 'x-prometheus-remote-write-version', 'authorization', 'host', 'content-length'].includes(lower)) {
      throw m.get('headers')!.error(`${n.what}.headers: ${JSON.stringify(h)} is a reserved header and may not be set`);
    }
  }
  return {
    url: parseUrl(urlNode),
    name: opt(m, 'name', (x) => x.str(), `remote_write_${i}`),
    remoteTimeout: opt(m, 'remote_timeout', (x) => x.duration(), 30_000),
    headers,
    writeRelabelConfigs: parseRelabelList(m.get('write_relabel_configs')),
    ...parseHttpClient(m, res),
  };
}

function parseAlerting(n: YNode | undefined, res: (p: string) => string): VigilConfig['alerting'] {
  if (!n) return { alertmanagers: [], alertRelabelConfigs: [] };
  const m = n.map(['alertmanagers', 'alert_relabel_configs']);
  const ams = (m.get('alertmanagers')?.list() ?? []).map((e): AlertmanagerConfig => {
    const a = e.map(['scheme', 'path_prefix', 'timeout', 'api_version', 'static_configs', ...HTTP_KEYS]);
    const apiVersion = opt(a, 'api_version', (x) => x.str(), 'v2');
    if (apiVersion !== 'v2') throw a.get('api_version')!.error(`${e.what}.api_version: only "v2" is supported, got ${JSON.stringify(apiVersion)}`);
    return {
      scheme: parseScheme(a),
      pathPrefix: opt(a, 'path_prefix', (x) => x.str(), '/'),
      timeout: opt(a, 'timeout', (x) => x.duration(), 10_000),
      apiVersion: 'v2',
      staticConfigs: parseStatic(a.get('static_configs')),
      ...parseHttpClient(a, res),
    };
  });
  return { alertmanagers: ams, alertRelabelConfigs: parseRelabelList(m.get('alert_relabel_configs')) };
}

function parseHost(n: YNode | undefined): HostConfig {
  if (!n) return { ...DEFAULT_HOST, enabled: false };
  const m = n.map(['enabled', 'interval', 'procfs', 'sysfs', 'rootfs', 'collectors', 'expose_on_metrics']);
  const interval = opt(m, 'interval', (x) => x.duration(), DEFAULT_HOST.interval);
  if (interval <= 0) throw m.get('interval')!.error('host.interval must be greater than 0');
  return {
    enabled: opt(m, 'enabled', (x) => x.bool(), true),
    interval,
    procfs: opt(m, 'procfs', (x) => x.str(), DEFAULT_HOST.procfs),
    sysfs: opt(m, 'sysfs', (x) => x.str(), DEFAULT_HOST.sysfs),
    rootfs: opt(m, 'rootfs', (x) => x.str(), DEFAULT_HOST.rootfs),
    collectors: opt(m, 'collectors', (x) => x.strList(), []),
    exposeOnMetrics: opt(m, 'expose_on_metrics', (x) => x.bool(), DEFAULT_HOST.exposeOnMetrics),
  };
}

function parseReceiver(n: YNode | undefined): ReceiverConfig {
  if (!n) return DEFAULT_RECEIVER;
  const m = n.map(['enabled', 'max_body_bytes', 'max_decompressed_bytes']);
  const r: ReceiverConfig = {
    enabled: opt(m, 'enabled', (x) => x.bool(), true),
    maxBodyBytes: opt(m, 'max_body_bytes', (x) => x.byteSize(), DEFAULT_RECEIVER.maxBodyBytes),
    maxDecompressedBytes: opt(m, 'max_decompressed_bytes', (x) => x.byteSize(), DEFAULT_RECEIVER.maxDecompressedBytes),
  };
  if (r.maxBodyBytes <= 0 || r.maxDecompressedBytes <= 0) throw n.error('remote_write_receiver: size limits must be greater than 0');
  return r;
}

/** Parses a `--storage.wal-fsync`-style value: `always`, `never` or a duration (ms). */
export function parseFsyncPolicy(s: string): StorageConfig['walFsync'] {
  if (s === 'always' || s === 'never') return s;
  const ms = parseDuration(s);
  if (ms <= 0) throw new Error(`fsync interval must be greater than 0 (or "always"/"never"), got ${JSON.stringify(s)}`);
  return ms;
}

function parseStorage(n: YNode | undefined): StorageConfig {
  if (!n) return DEFAULT_STORAGE;
  const m = n.map(['wal_fsync', 'wal_segment_bytes']);
  const fs = m.get('wal_fsync');
  let walFsync = DEFAULT_STORAGE.walFsync;
  if (fs && !fs.isNull) {
    try {
      walFsync = parseFsyncPolicy(fs.str());
    } catch (e) {
      throw fs.error(`storage.wal_fsync: ${(e as Error).message}`, e);
    }
  }
  const walSegmentBytes = opt(m, 'wal_segment_bytes', (x) => x.byteSize(), DEFAULT_STORAGE.walSegmentBytes);
  if (walSegmentBytes < 64 * 1024) throw m.get('wal_segment_bytes')!.error('storage.wal_segment_bytes must be at least 64KiB');
  return { walFsync, walSegmentBytes };
}

const TOP_KEYS = [
  'global',
  'scrape_configs',
  'rule_files',
  'alerting',
  'remote_write',
  'host',
  'remote_write_receiver',
  'storage',
  'correlation',
  'tracing',
  'tenancy',
  'limits',
];

/**
 * The node a validation message of a section parser points at: its message starts with a key
 * path such as `correlation.elasticsearch.nodes[0]: ...`; the deepest existing node on that
 * path (below `node`, whose own path is `base`) is returned, else `node`.
 */
function nodeForMessage(node: YNode, base: string, message: string): YNode {
  const colon = message.indexOf(': ');
  const p = colon > 0 ? message.slice(0, colon) : '';
  if (!p.startsWith(base)) return node;
  const parts = p
    .slice(base.length)
    .split(/\.|(?=\[)/)
    .filter((x) => x !== '');
  let cur = node;
  for (const part of parts) {
    try {
      const idx = /^\[(\d+)\]$/.exec(part);
      const next = idx ? cur.list()[Number(idx[1])] : cur.entries().find(([k]) => k === part)?.[1];
      if (!next) break;
      cur = next;
    } catch {
      break;
    }
  }
  return cur;
}

/** Runs a section validator over a node's value, turning its errors into positioned ConfigErrors. */
function validateSection<T>(n: YNode, base: string, parse: (raw: unknown, path: string) => T): T {
  try {
    return parse(n.toJS(), base);
  } catch (e) {
    if (e instanceof ValidationError) throw nodeForMessage(n, base, e.message).error(e.message, e);
    throw e;
  }
}

/**
 * Validates `correlation:` and every `tenancy.tenants.<id>.correlation` (the sections stay raw
 * in the config; the app parses them again with the same function).
 */
function checkCorrelationSections(top: YNode | undefined, tenancy: YNode | undefined): void {
  if (top && !top.isNull) validateSection(top, 'correlation', parseCorrelationConfig);
  if (!tenancy || tenancy.isNull) return;
  let tenants: YNode | undefined;
  try {
    tenants = tenancy.entries().find(([k]) => k === 'tenants')?.[1];
  } catch {
    return; // the tenancy parser reports a malformed section
  }
  if (!tenants || tenants.isNull) return;
  let list: [string, YNode][];
  try {
    list = tenants.entries();
  } catch {
    return;
  }
  for (const [id, t] of list) {
    let co: YNode | undefined;
    try {
      co = t.entries().find(([k]) => k === 'correlation')?.[1];
    } catch {
      continue;
    }
    if (co && !co.isNull) validateSection(co, `tenancy.tenants.${id}.correlation`, parseCorrelationConfig);
  }
}

/** The validated `tracing:` section (absent or `enabled: false` = tracing off). */
function tracingSection(n: YNode | undefined): { tracing?: TracingConfig } {
  if (!n || n.isNull) return {};
  const t = validateSection(n, 'tracing', parseTracingConfig);
  return t ? { tracing: t } : {};
}

/** Parses and validates config text. `file` is used in messages and (by default) to resolve relative paths. */
export function parseConfig(text: string, file: string, opts: ParseConfigOptions = {}): VigilConfig {
  const baseDir = opts.baseDir ?? path.dirname(path.resolve(file));
  const res = (p: string): string => (p === '' || path.isAbsolute(p) ? p : path.join(baseDir, p));
  const root = parseYaml(text, file);
  const m = root.map(TOP_KEYS);
  const global = parseGlobal(m.get('global'));
  const scrapeConfigs = (m.get('scrape_configs')?.list() ?? []).map((n) => parseScrape(n, global, res));
  const seen = new Map<string, number>();
  for (const [i, sc] of scrapeConfigs.entries()) {
    if (seen.has(sc.jobName)) {
      throw m.get('scrape_configs')!.list()[i]!.error(`found multiple scrape configs with job name ${JSON.stringify(sc.jobName)}`);
    }
    seen.set(sc.jobName, i);
  }
  const ruleFilesNode = m.get('rule_files');
  const ruleFiles = (ruleFilesNode?.list() ?? []).map((n) => {
    const s = n.str();
    if (s === '') throw n.error(`${n.what}: empty rule file pattern`);
    if (/[*?[]/.test(path.dirname(s))) throw n.error(`${n.what}: ${JSON.stringify(s)}: only the last path component may contain a glob pattern`);
    return res(s);
  });
  const rwNodes = m.get('remote_write')?.list() ?? [];
  const remoteWrite = rwNodes.map((n, i) => parseRemoteWrite(n, i, res));
  const names = new Set<string>();
  for (const [i, rw] of remoteWrite.entries()) {
    if (names.has(rw.name)) throw rwNodes[i]!.error(`found multiple remote_write configs with name ${JSON.stringify(rw.name)}`);
    names.add(rw.name);
  }
  checkCorrelationSections(m.get('correlation'), m.get('tenancy'));
  const raw = (k: string): Record<string, unknown> => {
    const n = m.get(k);
    return n && !n.isNull ? { [k]: n.toJS() } : {};
  };
  return {
    global,
    scrapeConfigs,
    ruleFiles,
    alerting: parseAlerting(m.get('alerting'), res),
    remoteWrite,
    host: parseHost(m.get('host')),
    receiver: parseReceiver(m.get('remote_write_receiver')),
    storage: parseStorage(m.get('storage')),
    ...raw('correlation'),
    ...tracingSection(m.get('tracing')),
    ...(m.has('tenancy') ? { tenancy: parseTenancySection(m.get('tenancy'), (n) => parseAlerting(n, res)) } : {}),
    ...(m.has('limits') ? { limits: parseLimitsSection(m.get('limits')) } : {}),
  };
}

/** A loaded configuration with its source text (for `/api/v1/status/config`). */
export interface LoadedConfig {
  readonly config: VigilConfig;
  /** Path it was read from, or `<embedded default>`. */
  readonly file: string;
  readonly text: string;
}

/** Reads and validates a config file (refuses files over 8 MiB before reading them). */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw new ConfigError(`cannot read config file: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, file, 0, { cause: e });
  }
  if (size > MAX_CONFIG_BYTES) throw new ConfigError(`config file is ${size} bytes, larger than the limit of ${MAX_CONFIG_BYTES} bytes`, file, 0);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file: ${(e as Error).message}`, file, 0, { cause: e });
  }
  return { config: parseConfig(text, file), file, text };
}
