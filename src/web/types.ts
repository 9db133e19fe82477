/**
 * What the web layer needs from the rest of vigil, as small structural interfaces so the API
 * is tested with fakes and `app.ts` plugs the concrete classes in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Clock } from '../model/clock.js';
import type { Logger } from '../model/logger.js';
import type { Matcher } from '../model/matchers.js';
import type { Value } from '../promql/engine/values.js';
import type { MetadataReader, Queryable } from '../storage/interface.js';

/** Result of a PromQL query (same shape as the engine's `QueryResult`). */
export interface ApiQueryResult {
  readonly value: Value;
  readonly warnings: readonly string[];
  readonly infos: readonly string[];
}

/** The PromQL engine as the API uses it. */
export interface QueryEngine {
  instantQuery(q: Queryable, query: string, ts: number, opts?: { signal?: AbortSignal }): Promise<ApiQueryResult>;
  rangeQuery(q: Queryable, query: string, start: number, end: number, step: number, opts?: { signal?: AbortSignal }): Promise<ApiQueryResult>;
}

/** A Node request handler (the remote-write receiver). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** One scrape target in Prometheus's `/api/v1/targets` JSON shape. */
export interface ApiTarget {
  readonly discoveredLabels: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly globalUrl: string;
  readonly lastError: string;
  /** RFC 3339. */
  readonly lastScrape: string;
  /** Seconds. */
  readonly lastScrapeDuration: number;
  readonly health: 'up' | 'down' | 'unknown';
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
}

/** A dropped target (relabelled away). */
export interface ApiDroppedTarget {
  readonly discoveredLabels: Readonly<Record<string, string>>;
}

/** Build information for `/api/v1/status/buildinfo` and `vigil_build_info`. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  /** Runtime version (Prometheus's field name, kept for client compatibility). */
  readonly goVersion: string;
}

/** The parts that exist only once storage is open (the server is "ready" once these are set). */
export interface ApiBackend {
  readonly storage: Queryable & MetadataReader;
  readonly engine: QueryEngine;
}

/** The tenant a request acts for (set by the tenancy middleware). */
export interface RequestTenant {
  readonly tenant: string;
  /** May see server-wide pages (status/config, flags, runtime info, targets) and reload: admins, or the default tenant when authentication is off. */
  readonly privileged: boolean;
  /** Admin role: on /metrics sees every tenant's synthesized series (tenant-labelled) and tenant metrics. */
  readonly admin: boolean;
}

/** A refusal of the tenancy middleware. */
export interface TenancyRefusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Multi-tenancy hooks of the web layer. */
export interface WebTenancy {
  /** Authenticates the request and resolves its tenant, or returns the refusal to answer. Never throws. */
  resolve(req: IncomingMessage): Promise<RequestTenant | TenancyRefusal>;
  /** The tenant's storage and engine (reads see only that tenant's data). */
  backend(t: RequestTenant): ApiBackend;
  /** Admits one query of the tenant; throws a LimitError (429) when its concurrency limit is reached. Returns the release function. */
  admitQuery?(t: RequestTenant): () => void;
}

/** Hostile-input bounds of the HTTP server. */
export interface ServerLimits {
  /** Requests handled at once (health endpoints excluded); more answer 503 with Retry-After (default 512). */
  readonly maxConcurrentRequests?: number;
  /** Max bytes of the request line + headers (default 16 KiB; larger answer 431). */
  readonly maxHeaderBytes?: number;
  /** Max header count (default 100; more are ignored by Node). */
  readonly maxHeadersCount?: number;
  /** Time to receive a whole request (default 2 min). */
  readonly requestTimeoutMs?: number;
  /** Time to receive the headers (default 20 s; slow-loris). */
  readonly headersTimeoutMs?: number;
  /** Idle keep-alive timeout (default 65 s). */
  readonly keepAliveTimeoutMs?: number;
}

/** TLS of the listener; the getter is read again on `reloadTls()`. */
export interface ListenerTls {
  readonly options: () => { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean };
}

/** Options of the web server / API. */
export interface WebOptions {
  /** Authentication and per-tenant backends (absent: one tenant, no authentication). */
  readonly tenancy?: WebTenancy;
  /** Full /metrics body for a tenant (replaces registry + extraExposition when set). */
  readonly metricsFor?: (t: RequestTenant) => Promise<string>;
  readonly serverLimits?: ServerLimits;
  readonly tls?: ListenerTls;
  /** prom-client registry served on `/metrics`. */
  readonly registry: Registry;
  /** Parses a series selector (`match[]`) into matchers; throws on bad input. */
  readonly parseMatchers: (selector: string) => Matcher[];
  /** Formats a query value as Prometheus API JSON (`resultType` + `result`). */
  readonly formatValue: (v: Value) => unknown;
  /** Upper bound and default for a query's `timeout` parameter (ms). */
  readonly queryTimeoutMs: number;
  readonly buildInfo: BuildInfo;
  /** Command-line flags by name (`/api/v1/status/flags`). */
  readonly flags: Readonly<Record<string, string>>;
  /** YAML of the loaded config, secrets redacted. */
  readonly configYaml: () => string;
  /** `/api/v1/status/runtimeinfo` data. */
  readonly runtimeInfo: () => Record<string, unknown>;
  /** `POST /-/reload`; rejects with the reason when the new config is bad. */
  readonly reload?: () => Promise<void>;
  /** Scrape targets (`/api/v1/targets`). */
  readonly targets?: (t?: RequestTenant) => { activeTargets: readonly ApiTarget[]; droppedTargets: readonly ApiDroppedTarget[] };
  /** The remote-write handler, or undefined when the receiver is disabled (answers 404). */
  readonly remoteWrite?: (t?: RequestTenant) => RawHandler | undefined | Promise<RawHandler | undefined>;
  /** Extra exposition text appended to `/metrics` (synthesized series, host metrics). */
  readonly extraExposition?: () => Promise<string>;
  /** `/api/v1/rules` data (`{groups: [...]}`); empty when absent. */
  readonly rules?: (params: URLSearchParams, t?: RequestTenant) => unknown;
  /** `/api/v1/alerts` data (`{alerts: [...]}`); empty when absent. */
  readonly alerts?: (t?: RequestTenant) => unknown;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Max form-encoded body bytes (default 1 MiB). */
  readonly maxFormBytes?: number;
}
