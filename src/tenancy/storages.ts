/**
 * One storage per tenant, isolated by construction: the default tenant keeps today's layout
 * (`<storage.path>/wal`), every other tenant gets `<storage.path>/tenants/<id>/wal` with its own
 * head, opened lazily on its first write (or at startup when its directory exists, so its WAL
 * is replayed). Reads of a tenant without storage see an empty storage and create nothing.
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { LimitError } from '../model/errors.js';
import { nopLogger, type Logger } from '../model/logger.js';
import type { Head } from '../storage/head/index.js';
import type { MetadataReader, Queryable, Querier } from '../storage/interface.js';
import { openStorage, type OpenedStorage, type OpenStorageOptions } from '../storage/open.js';
import { isValidTenantId, validateTenantId } from './tenant-id.js';

/** Options of {@link TenantStorages}. */
export interface TenantStoragesOptions {
  /** `--storage.path`. */
  readonly rootDir: string;
  readonly defaultTenant: string;
  /** Upper bound on tenants with storage (the default tenant included). */
  readonly maxTenants: () => number;
  /** Options passed to `openStorage` (dir is set per tenant). The registry is used for the default tenant's head only. */
  readonly open: Omit<OpenStorageOptions<Head>, 'dir' | 'createHead'>;
  /** Builds a head for a non-default tenant (default: a head without self-metrics). */
  readonly createHead?: OpenStorageOptions<Head>['createHead'];
  /** Called once a tenant's storage is open (rules, limiter wiring). */
  readonly onOpen?: (tenant: string, s: OpenedStorage<Head>) => void | Promise<void>;
  readonly logger?: Logger;
}

const EMPTY_QUERIER: Querier = { select: () => [], labelNames: () => [], labelValues: () => [], close: () => {} };

/** A storage with nothing in it, for reads of a tenant that never wrote. */
export const EMPTY_STORAGE: Queryable & MetadataReader = Object.freeze({
  querier: () => EMPTY_QUERIER,
  metadata: () => new Map(),
  exemplars: () => [],
});

/** The tenants' storages. */
export class TenantStorages {
  private readonly open = new Map<string, OpenedStorage<Head>>();
  private readonly opening = new Map<string, Promise<OpenedStorage<Head>>>();
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly opts: TenantStoragesOptions) {
    this.log = opts.logger ?? nopLogger;
  }

  /** Directory of a tenant's storage. */
  dirOf(tenant: string): string {
    if (tenant === this.opts.defaultTenant) return this.opts.rootDir;
    return path.join(this.opts.rootDir, 'tenants', validateTenantId(tenant));
  }

  /** Opens the default tenant and every tenant that has a directory (WAL replay). */
  async openExisting(): Promise<void> {
    await this.get(this.opts.defaultTenant);
    let names: string[] = [];
    try {
      names = await readdir(path.join(this.opts.rootDir, 'tenants'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const n of names.sort()) {
      if (!isValidTenantId(n) || n === this.opts.defaultTenant) continue;
      await this.get(n);
    }
  }

  /** The tenant's storage if it is open. */
  peek(tenant: string): OpenedStorage<Head> | undefined {
    return this.open.get(tenant);
  }

  /** The tenant's storage for reads: its head, or an empty storage when it has none. Never creates anything. */
  reader(tenant: string): Queryable & MetadataReader {
    return this.open.get(tenant)?.head ?? EMPTY_STORAGE;
  }

  /** Tenants with open storage. */
  tenants(): string[] {
    return [...this.open.keys()];
  }

  /** Opens (creating its directory) or returns the tenant's storage. Throws a 429 LimitError beyond `max_tenants`. */
  get(tenant: string): Promise<OpenedStorage<Head>> {
    const have = this.open.get(tenant);
    if (have) return Promise.resolve(have);
    const pending = this.opening.get(tenant);
    if (pending) return pending;
    if (this.closed) return Promise.reject(new Error('tenant storages are closed'));
    const max = this.opts.maxTenants();
    if (this.open.size + this.opening.size >= max) {
      return Promise.reject(new LimitError(`cannot add tenant: the limit tenancy.max_tenants (${max}) is reached`, 'max_tenants', 429));
    }
    const p = this.doOpen(tenant).finally(() => this.opening.delete(tenant));
    this.opening.set(tenant, p);
    return p;
  }

  private async doOpen(tenant: string): Promise<OpenedStorage<Head>> {
    const dir = this.dirOf(tenant);
    const isDefault = tenant === this.opts.defaultTenant;
    if (!isDefault) {
      await mkdir(path.join(this.opts.rootDir, 'tenants'), { recursive: false }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }
    const t0 = Date.now();
    const s = await openStorage<Head>({
      ...this.opts.open,
      dir,
      ...(isDefault ? {} : this.opts.createHead ? { createHead: this.opts.createHead } : {}),
      logger: (this.opts.open.logger ?? this.log).with({ tenant }),
    });
    if (this.closed) {
      await s.close();
      throw new Error('tenant storages are closed');
    }
    this.open.set(tenant, s);
    this.log.info('tenant storage open', { tenant, dir, ms: Date.now() - t0, series: s.head.stats().series });
    await this.opts.onOpen?.(tenant, s);
    return s;
  }

  /** Closes every storage (WALs flushed). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.opening.values()]);
    const all = [...this.open.values()];
    this.open.clear();
    const res = await Promise.allSettled(all.map((s) => s.close()));
    const failed = res.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
