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

/** Options of the web server / API. */
export interface WebOptions {
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
  readonly targets?: () => { activeTargets: readonly ApiTarget[]; droppedTargets: readonly ApiDroppedTarget[] };
  /** The remote-write handler, or undefined when the receiver is disabled (answers 404). */
  readonly remoteWrite?: () => RawHandler | undefined;
  /** Extra exposition text appended to `/metrics` (synthesized series, host metrics). */
  readonly extraExposition?: () => Promise<string>;
  /** `/api/v1/rules` data (`{groups: [...]}`); empty when absent. */
  readonly rules?: (params: URLSearchParams) => unknown;
  /** `/api/v1/alerts` data (`{alerts: [...]}`); empty when absent. */
  readonly alerts?: () => unknown;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Max form-encoded body bytes (default 1 MiB). */
  readonly maxFormBytes?: number;
}
