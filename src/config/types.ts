/**
 * Validated configuration objects (the contract between `config/` loaders and their users).
 * The file format is Prometheus's (`global`, `scrape_configs`, `rule_files`, `alerting`,
 * `remote_write`) plus vigil's own sections. Durations are milliseconds here.
 */

/** `global:` */
export interface GlobalConfig {
  readonly scrapeInterval: number;
  readonly scrapeTimeout: number;
  readonly evaluationInterval: number;
  readonly externalLabels: Readonly<Record<string, string>>;
}

/** One `relabel_configs` / `metric_relabel_configs` entry. */
export interface RelabelConfig {
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** Anchored regex source (default `(.*)`). */
  readonly regex: string;
  readonly modulus: number;
  readonly targetLabel: string;
  readonly replacement: string;
  readonly action: 'replace' | 'keep' | 'drop' | 'keepequal' | 'dropequal' | 'hashmod' | 'labelmap' | 'labeldrop' | 'labelkeep' | 'lowercase' | 'uppercase';
}

/** `static_configs` entry. */
export interface StaticConfig {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** `file_sd_configs` entry. */
export interface FileSDConfig {
  readonly files: readonly string[];
  readonly refreshInterval: number;
}

/** HTTP client settings shared by scrapes and outgoing clients. */
export interface HttpClientConfig {
  readonly basicAuth?: { readonly username: string; readonly password?: string; readonly passwordFile?: string };
  readonly bearerToken?: string;
  readonly bearerTokenFile?: string;
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string; readonly serverName?: string; readonly insecureSkipVerify?: boolean };
}

/** One `scrape_configs` entry. */
export interface ScrapeConfig extends HttpClientConfig {
  readonly jobName: string;
  readonly scrapeInterval: number;
  readonly scrapeTimeout: number;
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  /** Max uncompressed body bytes (0 = the default limit). */
  readonly bodySizeLimit: number;
  /** Max samples per scrape (0 = no limit). */
  readonly sampleLimit: number;
  readonly staticConfigs: readonly StaticConfig[];
  readonly fileSdConfigs: readonly FileSDConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly metricRelabelConfigs: readonly RelabelConfig[];
}

/** `remote_write` entry (outgoing). */
export interface RemoteWriteConfig extends HttpClientConfig {
  readonly url: string;
  readonly name: string;
  readonly remoteTimeout: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly writeRelabelConfigs: readonly RelabelConfig[];
}

/** `alerting.alertmanagers` entry. */
export interface AlertmanagerConfig extends HttpClientConfig {
  readonly scheme: 'http' | 'https';
  readonly pathPrefix: string;
  readonly timeout: number;
  readonly apiVersion: 'v2';
  readonly staticConfigs: readonly StaticConfig[];
}

/** vigil's `host:` section: the built-in node_exporter-compatible collector. */
export interface HostConfig {
  readonly enabled: boolean;
  readonly interval: number;
  readonly procfs: string;
  readonly sysfs: string;
  readonly rootfs: string;
  /** Collector names to run (all known ones when empty). */
  readonly collectors: readonly string[];
  /** Also expose the host metrics on /metrics (node_exporter replacement). */
  readonly exposeOnMetrics: boolean;
}

/** vigil's `remote_write_receiver:` section. */
export interface ReceiverConfig {
  readonly enabled: boolean;
  /** Max compressed body bytes. */
  readonly maxBodyBytes: number;
  /** Max snappy-declared decompressed bytes (checked before allocating). */
  readonly maxDecompressedBytes: number;
}

/** vigil's `storage:` section (flags override). */
export interface StorageConfig {
  /** WAL fsync policy: 'always', 'never', or an interval in ms. */
  readonly walFsync: 'always' | 'never' | number;
  readonly walSegmentBytes: number;
}

/** The whole validated configuration. */
export interface VigilConfig {
  readonly global: GlobalConfig;
  readonly scrapeConfigs: readonly ScrapeConfig[];
  readonly ruleFiles: readonly string[];
  readonly alerting: { readonly alertmanagers: readonly AlertmanagerConfig[]; readonly alertRelabelConfigs: readonly RelabelConfig[] };
  readonly remoteWrite: readonly RemoteWriteConfig[];
  readonly host: HostConfig;
  readonly receiver: ReceiverConfig;
  readonly storage: StorageConfig;
  /** Sections of later issues, kept raw until their issue defines them. */
  readonly correlation?: unknown;
  readonly tenancy?: unknown;
  readonly limits?: unknown;
}
