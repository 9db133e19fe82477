/**
 * One `kubernetes_sd_configs` entry at runtime: resolves the API connection, runs one
 * {@link Reflector} per watched collection (per namespace for pods, or cluster-wide) with the
 * configured label/field selectors (`$VAR`/`${VAR}` expanded from the environment, e.g.
 * `spec.nodeName=${NODE_NAME}` from the downward API), and turns the stored objects into target
 * groups. Same surface as FileSD (`groups`, `refresh`, `start`, `stop`, `onChange`), so the
 * scrape pool treats both alike.
 */
import type { Registry } from 'prom-client';
import type { KubernetesSDConfig } from '../../../config/types.js';
import { nopLogger, type Logger } from '../../../model/logger.js';
import type { TargetGroup } from '../targets.js';
import { resolveConnection, type ApiConnection, type InClusterPaths } from './connection.js';
import { KubernetesSDMetrics } from './metrics.js';
import { nodeTargetGroup } from './node.js';
import { podTargetGroup } from './pod.js';
import { DEFAULT_BACKOFF, Reflector, type BackoffOptions } from './reflector.js';

/** Runtime options of {@link KubernetesSD} (the config file sets the rest). */
export interface KubernetesSDOptions {
  readonly logger?: Logger;
  /** Called (coalesced over `updateDelayMs`) after the groups may have changed. */
  readonly onChange?: () => void;
  /** Registry of the `vigil_sd_kubernetes_*` metrics (a private one by default). */
  readonly registry?: Registry;
  /** Environment for `$VAR` expansion and in-cluster detection (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly inClusterPaths?: InClusterPaths;
  readonly backoff?: BackoffOptions;
  /** Server-side watch timeout base (seconds, default 300). */
  readonly watchTimeoutSeconds?: number;
  /** How long `refresh()` waits for the first list (default 10 s). */
  readonly initialSyncTimeoutMs?: number;
  /** Coalescing delay of change notifications (default 1 s). */
  readonly updateDelayMs?: number;
}

/** Expands `$VAR` and `${VAR}` from `env` (unset variables become ''; `$$` is a literal `$`). */
export function expandEnv(s: string, env: Readonly<Record<string, string | undefined>>): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = s.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a?: string, b?: string) => {
    if (m === '$$') return '$';
    const name = (a ?? b)!;
    const v = env[name];
    if (v === undefined || v === '') missing.push(name);
    return v ?? '';
  });
  return { value, missing };
}

/** Kubernetes service discovery for one config entry (roles pod and node). */
export class KubernetesSD {
  private readonly logger: Logger;
  private readonly metrics: KubernetesSDMetrics;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private reflectors: Reflector[] = [];
  private readonly cache = new WeakMap<object, TargetGroup>();
  private starting: Promise<void> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastGroups = '';
  private stopped = false;

  constructor(
    readonly config: KubernetesSDConfig,
    private readonly opts: KubernetesSDOptions = {},
  ) {
    this.logger = (opts.logger ?? nopLogger).with({ component: 'kubernetes_sd', role: config.role });
    this.metrics = new KubernetesSDMetrics(opts.registry);
    this.env = opts.env ?? process.env;
  }

  /** Current target groups (one per pod or node; sorted by source). */
  groups(): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const r of this.reflectors) {
      for (const obj of r.store.values()) {
        let g = this.cache.get(obj);
        if (!g) {
          g = this.config.role === 'pod' ? podTargetGroup(obj) : nodeTargetGroup(obj);
          this.cache.set(obj, g);
        }
        out.push(g);
      }
    }
    return out.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /** Starts watching (if not yet) and waits for the first list, up to `initialSyncTimeoutMs`. Never rejects; true when synced. */
  async refresh(): Promise<boolean> {
    this.starting ??= this.begin();
    await this.starting;
    const timeout = this.opts.initialSyncTimeoutMs ?? 10_000;
    const ok = this.reflectors.length > 0 && (await Promise.all(this.reflectors.map((r) => r.waitSynced(timeout)))).every(Boolean);
    if (!ok && !this.stopped) this.logger.warn('kubernetes discovery not synced yet; targets will appear when it is', { timeoutMs: timeout });
    return ok;
  }

  /** Starts watching (idempotent). Never rejects. */
  async start(): Promise<void> {
    this.starting ??= this.begin();
    await this.starting;
  }

  /** Stops all watches (in the background; nothing is reported afterwards). */
  stop(): void {
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    for (const r of this.reflectors) void r.stop();
  }

  /** Resolves the connection and starts the reflectors; on failure retries in the background. */
  private async begin(): Promise<void> {
    try {
      await this.startReflectors(await this.resolve());
    } catch (err) {
      this.failedResolve(err, 0);
    }
  }

  private resolve(): Promise<ApiConnection> {
    return resolveConnection(this.config, { env: this.env, ...(this.opts.inClusterPaths ? { inClusterPaths: this.opts.inClusterPaths } : {}) });
  }

  private failedResolve(err: unknown, attempt: number): void {
    if (this.stopped) return;
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    this.metrics.failures.inc({ role: this.config.role });
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20));
    this.logger.error('cannot set up the Kubernetes API connection; retrying', { err, retryInMs: delay });
    this.retryBegin(delay, attempt + 1);
  }

  /** Keeps trying to connect in the background so `refresh()` does not block. */
  private retryBegin(delay: number, attempt: number): void {
    const t = setTimeout(() => {
      if (this.stopped) return;
      this.resolve().then(
        (conn) => this.startReflectors(conn),
        (err) => this.failedResolve(err, attempt),
      );
    }, delay);
    t.unref();
  }

  private selector(kind: 'label' | 'field'): string | undefined {
    const sel = this.config.selectors.find((s) => s.role === this.config.role)?.[kind];
    if (sel === undefined) return undefined;
    const { value, missing } = expandEnv(sel, this.env);
    if (missing.length > 0) this.logger.warn('environment variables in a kubernetes_sd selector are unset or empty', { selector: sel, missing: missing.join(',') });
    return value;
  }

  private async startReflectors(conn: ApiConnection): Promise<void> {
    if (this.stopped) return;
    const paths: string[] = [];
    if (this.config.role === 'node') {
      paths.push('/api/v1/nodes');
    } else {
      const ns = new Set(this.config.namespaces.names);
      if (this.config.namespaces.ownNamespace) {
        const own = await conn.ownNamespace();
        if (own) ns.add(own);
        else this.logger.error('own_namespace: cannot determine the namespace this process runs in');
      }
      if (ns.size === 0 && !this.config.namespaces.ownNamespace) paths.push('/api/v1/pods');
      for (const n of [...ns].sort()) paths.push(`/api/v1/namespaces/${encodeURIComponent(n)}/pods`);
    }
    const field = this.selector('field');
    const label = this.selector('label');
    this.reflectors = paths.map(
      (p) =>
        new Reflector({
          conn,
          path: p,
          ...(field ? { fieldSelector: field } : {}),
          ...(label ? { labelSelector: label } : {}),
          onChange: () => this.changed(),
          role: this.config.role,
          metrics: this.metrics,
          logger: this.logger,
          ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
          ...(this.opts.watchTimeoutSeconds ? { watchTimeoutSeconds: this.opts.watchTimeoutSeconds } : {}),
        }),
    );
    if (this.stopped) return;
    for (const r of this.reflectors) r.start();
  }

  private changed(): void {
    if (this.stopped || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (this.stopped) return;
      const now = JSON.stringify(this.groups());
      if (now === this.lastGroups) return;
      this.lastGroups = now;
      try {
        this.opts.onChange?.();
      } catch (err) {
        this.logger.error('kubernetes discovery change handler failed', { err });
      }
    }, this.opts.updateDelayMs ?? 1000);
    this.debounce.unref();
  }
}
