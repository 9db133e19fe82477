/**
 * Validated configuration objects (the contract between `config/` loaders and their users).
 * The file format is Prometheus's (`global`, `scrape_configs`, `rule_files`, `alerting`,
 * `remote_write`) plus vigil's own sections. Durations are milliseconds here.
 */
import type { TracingConfig } from '../tracing/config.js';

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

/** One `kubernetes_sd_configs[].selectors` entry: API-side filtering of the watched objects. */
export interface KubernetesSelectorConfig {
  readonly role: 'pod' | 'node';
  /** Label selector (`app=x,tier!=db`); `$VAR`/`${VAR}` are expanded from the environment at discovery start. */
  readonly label?: string;
  /** Field selector (`spec.nodeName=${NODE_NAME}`); `$VAR`/`${VAR}` are expanded from the environment at discovery start. */
  readonly field?: string;
}

/**
 * `kubernetes_sd_configs` entry (Prometheus's kubernetes_sd_config, roles `pod` and `node`).
 * Connection: `api_server` (with the HTTP client settings), or `kubeconfig_file`, or neither
 * (in-cluster: service-account token and CA, `KUBERNETES_SERVICE_HOST`/`_PORT`).
 */
export interface KubernetesSDConfig extends HttpClientConfig {
  readonly role: 'pod' | 'node';
  readonly apiServer?: string;
  readonly kubeconfigFile?: string;
  /** Namespaces to watch (role pod); none listed and ownNamespace false = all namespaces. */
  readonly namespaces: { readonly names: readonly string[]; readonly ownNamespace: boolean };
  readonly selectors: readonly KubernetesSelectorConfig[];
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
  /** `kubernetes_sd_configs` (absent = none; optional so existing builders stay valid). */
  readonly kubernetesSdConfigs?: readonly KubernetesSDConfig[];
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
  /**
   * `correlation:` kept raw (validated at load by `correlate/config`'s `parseCorrelationConfig`,
   * which the app runs again to build the correlator).
   */
  readonly correlation?: unknown;
  /** `tracing:` self-tracing with jaeger-client (absent = off). */
  readonly tracing?: TracingConfig;
  /** `tenancy:` (absent = single tenant, everything in the default tenant `anonymous`). */
  readonly tenancy?: TenancyConfig;
  /** `limits:` per-tenant limits (absent = the built-in defaults). */
  readonly limits?: LimitsConfig;
}

/** Per-tenant limits (`limits.defaults` / `limits.overrides.<tenant>`); 0 means unlimited. Durations in ms. */
export interface TenantLimitsConfig {
  /** Samples (floats + histograms) per second accepted by remote-write (token bucket rate). */
  readonly ingestionRate: number;
  /** Token bucket size: the largest burst (and request) of samples accepted at once. */
  readonly ingestionBurst: number;
  /** Series in the tenant's head. */
  readonly maxActiveSeries: number;
  /** Series per metric name in the tenant's head. */
  readonly maxSeriesPerMetric: number;
  /** Labels per series, `__name__` included. */
  readonly maxLabelNamesPerSeries: number;
  /** UTF-8 bytes of a label name. */
  readonly maxLabelNameLength: number;
  /** UTF-8 bytes of a label value. */
  readonly maxLabelValueLength: number;
  /** Exemplars accepted per remote-write request. */
  readonly maxExemplarsPerRequest: number;
  /** Rule groups owned by the tenant. */
  readonly maxRuleGroups: number;
  /** Rules per group of the tenant. */
  readonly maxRulesPerGroup: number;
  /** Samples a query may hold in memory. */
  readonly maxQuerySamples: number;
  /** Series one selector of a query (or a series/labels request) may select. */
  readonly maxQuerySeries: number;
  /** Queries (query, query_range, series, labels…) of the tenant running at once; more answer 429. */
  readonly maxConcurrentQueries: number;
  /** Query length in characters. */
  readonly maxQueryLength: number;
  /** Query timeout (ms); capped by `--query.timeout`. */
  readonly queryTimeout: number;
}

/** `limits:` section. */
export interface LimitsConfig {
  readonly defaults: TenantLimitsConfig;
  readonly overrides: Readonly<Record<string, Partial<TenantLimitsConfig>>>;
}

/** `tenancy.tenants.<id>`: settings owned by one tenant. */
export interface TenantSettingsConfig {
  /** Labels added to the tenant's alerts (like `global.external_labels`). */
  readonly externalLabels: Readonly<Record<string, string>>;
  /** The tenant's Alertmanagers (same format as the top-level `alerting:`); absent = none. */
  readonly alerting?: VigilConfig['alerting'];
  /** The tenant's `correlation:` section (raw, validated by `correlate/config`). */
  readonly correlation?: unknown;
}

/** `tenancy:` section. */
export interface TenancyConfig {
  /** Request header naming the tenant (default `X-Scope-OrgID`). */
  readonly header: string;
  /** Tenant of requests without the header (default `anonymous`); it uses the storage path itself. */
  readonly defaultTenant: string;
  /** Refuse requests without the header (401) instead of using the default tenant. */
  readonly required: boolean;
  /** Label added to series exported on /metrics for a tenant (default `tenant`). */
  readonly tenantLabel: string;
  /** Upper bound on tenants with storage (a write for one more answers 429). */
  readonly maxTenants: number;
  readonly tenants: Readonly<Record<string, TenantSettingsConfig>>;
}
