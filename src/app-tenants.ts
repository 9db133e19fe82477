/**
 * Application wiring of multi-tenancy (split from app.ts, allowed to know concrete classes):
 * per tenant a storage (head + WAL), a limiter, an engine honouring the tenant's query limits,
 * an alerting path (rule manager, Alertmanager notifier, synthesized series) and a
 * remote-write handler. Everything a request of tenant A can reach is built from A's objects,
 * so nothing of B can leak, whatever the matchers.
 */
import { type IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import { createAlerting, type Alerting, type AlertingView } from './app-alerting.js';
import type { RuleGroupConfig } from './rules/rule.js';
import type { TenancyConfig, TenantLimitsConfig, VigilConfig } from './config/types.js';
import { createRemoteWriteHandler } from './ingest/remote-write/index.js';
import { parseCorrelationConfig, type CorrelationConfig, type CorrelatorOptions } from './correlate/index.js';
import { noopTracer, type VigilTracer } from './tracing/tracer.js';
import type { Clock } from './model/clock.js';
import { ValidationError } from './model/errors.js';
import type { Logger } from './model/logger.js';
import { Engine } from './promql/engine/index.js';
import { engineQueryFunc } from './rules/index.js';
import { Head } from './storage/head/index.js';
import type { MetadataReader, Queryable, Querier } from './storage/interface.js';
import type { OpenedStorage } from './storage/open.js';
import { AuthError, type Authenticator, type ClientCertInfo } from './tenancy/auth.js';
import { DEFAULT_TENANCY, limitKey, limitsFor } from './tenancy/config.js';
import { TenantLimiter } from './tenancy/limiter.js';
import { filterTenantLines, registerTenantMetrics } from './tenancy/metrics.js';
import { mergeExpositions, type ExpositionPart } from './tenancy/merge-exposition.js';
import { resolveTenant } from './tenancy/resolve.js';
import { EMPTY_STORAGE, TenantStorages } from './tenancy/storages.js';
import { tenantIdProblem } from './tenancy/tenant-id.js';
import type { ApiBackend, RawHandler, RequestTenant, TenancyRefusal, WebTenancy } from './web/types.js';

/** Options of {@link Tenants}. */
export interface TenantsOptions {
  readonly storagePath: string;
  readonly retentionMs: number;
  readonly config: () => VigilConfig;
  readonly fsync: () => import('./config/types.js').StorageConfig['walFsync'];
  readonly registry: Registry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Engine settings from the flags (upper bounds of the per-tenant query limits). */
  readonly lookbackDeltaMs: number;
  readonly queryTimeoutMs: number;
  readonly maxSamples: number;
  readonly externalUrl: string;
  readonly resendDelayMs: number;
  readonly outageToleranceMs: number;
  readonly gracePeriodMs: number;
  /** Current authenticator (undefined = no authentication). */
  readonly auth: () => Authenticator | undefined;
  /** Self-tracing (default off). */
  readonly tracer?: VigilTracer;
  /** Replaces the correlators' Elasticsearch client / fetch (tests). */
  readonly correlatorDeps?: Pick<CorrelatorOptions, 'esClient' | 'fetch'>;
}

/** One tenant's runtime. */
interface TenantRuntime {
  readonly tenant: string;
  readonly storage: OpenedStorage<Head>;
  readonly limiter: TenantLimiter;
  readonly alerting: Alerting;
  /** Registry of the tenant's alerting metrics (the main one for the default tenant). */
  readonly registry: Registry;
  rw?: RawHandler;
}

/** Queryable that caps the series one select may return (`max_query_series`). */
function capSeries<Q extends Queryable & MetadataReader>(q: Q, limit: number): Queryable & MetadataReader {
  if (limit <= 0) return q;
  return {
    querier(mint: number, maxt: number): Querier {
      const inner = q.querier(mint, maxt);
      return { ...inner, select: (p) => inner.select({ ...p, limit: p.limit !== undefined ? Math.min(p.limit, limit) : limit }), labelNames: (m) => inner.labelNames(m), labelValues: (n, m) => inner.labelValues(n, m), close: () => inner.close() };
    },
    metadata: (m, l) => q.metadata(m, l),
    exemplars: (m, a, b) => q.exemplars(m, a, b),
  };
}

/** All tenants of the running app. */
export class Tenants implements WebTenancy {
  readonly storages: TenantStorages;
  private readonly runtimes = new Map<string, TenantRuntime>();
  private readonly engines = new Map<string, { key: string; engine: Engine }>();
  private readonly groupsByTenant = new Map<string, RuleGroupConfig[]>();
  readonly defaultTenant: string;

  constructor(private readonly opts: TenantsOptions) {
    this.defaultTenant = this.tenancy().defaultTenant;
    const cfg = opts.config();
    this.storages = new TenantStorages({
      rootDir: opts.storagePath,
      defaultTenant: this.defaultTenant,
      maxTenants: () => this.tenancy().maxTenants,
      open: { retentionMs: opts.retentionMs, fsync: opts.fsync(), segmentBytes: cfg.storage.walSegmentBytes, clock: opts.clock, registry: opts.registry, logger: opts.logger.with({ component: 'storage' }) },
      // Head self-metrics are registered once per registry: only the default tenant's head has them.
      createHead: (o) => new Head({ ...o, registry: undefined }),
      onOpen: (t, s) => this.setup(t, s),
      logger: opts.logger.with({ component: 'tenancy' }),
    });
    registerTenantMetrics(opts.registry, () =>
      [...this.runtimes.values()].map((r) => ({
        tenant: r.tenant,
        activeSeries: r.storage.head.stats().series,
        samplesAccepted: r.limiter.usage.samplesAccepted,
        refused: r.limiter.usage.refused,
        queriesInflight: r.limiter.usage.queriesInflight,
        ...r.alerting.counts(),
        ruleGroups: r.alerting.counts().groups,
        limits: r.limiter.current(),
      })),
    );
  }

  /** The current `tenancy:` config. */
  tenancy(): TenancyConfig {
    return this.opts.config().tenancy ?? DEFAULT_TENANCY;
  }

  limits(tenant: string): TenantLimitsConfig {
    return limitsFor(this.opts.config().limits, tenant);
  }

  /** The default tenant's runtime (exists once `open()` resolved). */
  get default(): TenantRuntime {
    return this.runtimes.get(this.defaultTenant)!;
  }

  /** Opens the default tenant and every tenant with a storage directory. */
  async open(): Promise<void> {
    await this.storages.openExisting();
  }

  private async setup(tenant: string, storage: OpenedStorage<Head>): Promise<void> {
    const isDefault = tenant === this.defaultTenant;
    const registry = isDefault ? this.opts.registry : new Registry();
    const limiter = new TenantLimiter(tenant, () => this.limits(tenant), this.opts.clock);
    const alerting = createAlerting({
      engine: this.engine(tenant),
      storage: storage.head,
      query: (expr, ts, signal) => engineQueryFunc(this.engine(tenant), capSeries(storage.head, this.limits(tenant).maxQuerySeries))(expr, ts, signal),
      ...(isDefault ? {} : { tenant }),
      registry,
      logger: isDefault ? this.opts.logger : this.opts.logger.with({ tenant }),
      clock: this.opts.clock,
      externalUrl: this.opts.externalUrl,
      resendDelayMs: this.opts.resendDelayMs,
      outageToleranceMs: this.opts.outageToleranceMs,
      gracePeriodMs: this.opts.gracePeriodMs,
      tracer: this.opts.tracer ?? noopTracer,
      ...(this.opts.correlatorDeps ? { correlatorDeps: this.opts.correlatorDeps } : {}),
    });
    const rt: TenantRuntime = { tenant, storage, limiter, alerting, registry };
    this.runtimes.set(tenant, rt);
    await alerting.apply(this.view(tenant), this.groupsByTenant.get(tenant) ?? []);
  }

  /** The parts of the config a tenant's alerting uses. */
  private view(tenant: string): AlertingView {
    const cfg = this.opts.config();
    if (tenant === this.defaultTenant) {
      const correlation = this.correlation(cfg.correlation, 'correlation');
      return { alerting: cfg.alerting, remoteWrite: cfg.remoteWrite, externalLabels: cfg.global.externalLabels, evaluationInterval: cfg.global.evaluationInterval, ...(correlation ? { correlation } : {}) };
    }
    const s = this.tenancy().tenants[tenant];
    // A tenant's own `correlation:` section; without one it has no correlation (the top-level
    // section belongs to the default tenant: its backends may hold other tenants' data).
    const correlation = this.correlation(s?.correlation, `tenancy.tenants.${tenant}.correlation`);
    return {
      alerting: s?.alerting ?? { alertmanagers: [], alertRelabelConfigs: [] },
      remoteWrite: [],
      externalLabels: { ...cfg.global.externalLabels, ...s?.externalLabels },
      evaluationInterval: cfg.global.evaluationInterval,
      ...(correlation ? { correlation } : {}),
    };
  }

  /** Parses a raw `correlation:` section (validated at config load; a failure here turns it off). */
  private correlation(raw: unknown, path: string): CorrelationConfig | undefined {
    try {
      return parseCorrelationConfig(raw, path);
    } catch (e) {
      this.opts.logger.error('invalid correlation config, correlation off', { path, err: (e as Error).message });
      return undefined;
    }
  }

  /** An engine with the tenant's query limits (rebuilt when they change). */
  engine(tenant: string): Engine {
    const l = this.limits(tenant);
    const timeout = l.queryTimeout > 0 ? Math.min(l.queryTimeout, this.opts.queryTimeoutMs) : this.opts.queryTimeoutMs;
    const maxSamples = l.maxQuerySamples > 0 ? Math.min(l.maxQuerySamples, this.opts.maxSamples) : this.opts.maxSamples;
    const key = JSON.stringify([timeout, maxSamples, l.maxQueryLength]);
    const have = this.engines.get(tenant);
    if (have && have.key === key) return have.engine;
    const engine = new Engine({
      lookbackDeltaMs: this.opts.lookbackDeltaMs,
      maxSamples,
      timeoutMs: timeout,
      ...(l.maxQueryLength > 0 ? { maxQueryLength: l.maxQueryLength } : {}),
      clock: this.opts.clock,
      logger: this.opts.logger.with({ component: 'query', tenant }),
    });
    this.engines.set(tenant, { key, engine });
    return engine;
  }

  /**
   * Loads the rule groups of every tenant: validates tenant ids and the per-tenant rule limits
   * (throws, keeping the old rules, when one is exceeded), opens storage for tenants that have
   * rules, and applies each tenant's groups (tenants without groups get none).
   */
  async applyRules(groups: readonly RuleGroupConfig[]): Promise<void> {
    const by = new Map<string, RuleGroupConfig[]>();
    for (const g of groups) {
      const t = g.tenant ?? this.defaultTenant;
      const p = tenantIdProblem(t);
      if (p) throw new ValidationError(`${g.file}: group ${JSON.stringify(g.name)}: invalid tenant ${JSON.stringify(t)}: ${p}`);
      let list = by.get(t);
      if (!list) by.set(t, (list = []));
      list.push(g);
    }
    const problems: string[] = [];
    for (const [t, list] of by) {
      const l = this.limits(t);
      if (l.maxRuleGroups > 0 && list.length > l.maxRuleGroups) problems.push(`tenant ${JSON.stringify(t)} has ${list.length} rule groups, more than its limit ${limitKey('maxRuleGroups')} (${l.maxRuleGroups})`);
      for (const g of list) {
        if (l.maxRulesPerGroup > 0 && g.rules.length > l.maxRulesPerGroup) problems.push(`${g.file}: group ${JSON.stringify(g.name)} of tenant ${JSON.stringify(t)} has ${g.rules.length} rules, more than the limit ${limitKey('maxRulesPerGroup')} (${l.maxRulesPerGroup})`);
      }
    }
    if (problems.length) throw new ValidationError(`rule limits exceeded:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.groupsByTenant.clear();
    for (const [t, list] of by) this.groupsByTenant.set(t, list);
    for (const t of by.keys()) if (!this.runtimes.has(t)) await this.storages.get(t); // setup applies its groups
    for (const [t, rt] of this.runtimes) await rt.alerting.apply(this.view(t), by.get(t) ?? []);
  }

  // --- WebTenancy ------------------------------------------------------------------------------

  /** Authenticates and resolves the tenant of a request. */
  async resolve(req: IncomingMessage): Promise<RequestTenant | TenancyRefusal> {
    const auth = this.opts.auth();
    const cfg = this.tenancy();
    let principal;
    try {
      const sock = req.socket as Partial<TLSSocket>;
      const cert = sock.authorized && typeof sock.getPeerCertificate === 'function' ? (sock.getPeerCertificate() as ClientCertInfo) : undefined;
      principal = auth ? await auth.authenticate(req.headers.authorization, cert) : ({ kind: 'anonymous' } as const);
    } catch (e) {
      if (e instanceof AuthError) return { status: 401, message: `unauthorized: ${e.message}`, headers: { 'WWW-Authenticate': 'Bearer realm="vigil", Basic realm="vigil"' } };
      throw e;
    }
    const r = resolveTenant(cfg, principal, req.headers[cfg.header.toLowerCase()]);
    if (r.kind === 'error') return { status: r.status, message: r.message };
    const authOn = auth?.enabled ?? false;
    return { tenant: r.tenant, admin: r.admin, privileged: r.admin || (!authOn && r.tenant === this.defaultTenant) };
  }

  /** Reads of a tenant: its own head (or an empty storage) and engine. */
  backend(t: RequestTenant): ApiBackend {
    const rt = this.runtimes.get(t.tenant);
    return { storage: capSeries(rt?.storage.head ?? EMPTY_STORAGE, this.limits(t.tenant).maxQuerySeries), engine: this.engine(t.tenant) };
  }

  /** Query concurrency of a tenant. */
  admitQuery(t: RequestTenant): () => void {
    const rt = this.runtimes.get(t.tenant);
    return rt ? rt.limiter.acquireQuery() : () => {};
  }

  /** The tenant's remote-write handler (opens its storage on the first write). */
  async remoteWrite(t: RequestTenant): Promise<RawHandler | undefined> {
    const cfg = this.opts.config();
    if (!cfg.receiver.enabled) return undefined;
    if (!this.runtimes.has(t.tenant)) await this.storages.get(t.tenant);
    const rt = this.runtimes.get(t.tenant)!;
    rt.rw ??= createRemoteWriteHandler({
      appendable: rt.limiter.wrap(rt.alerting.ingestAppendable(rt.storage.head), rt.storage.head),
      hasSeries: (ref) => rt.storage.head.hasSeries(ref),
      maxBodyBytes: cfg.receiver.maxBodyBytes,
      maxDecompressedBytes: cfg.receiver.maxDecompressedBytes,
      limits: () => {
        const l = this.limits(t.tenant);
        return { maxLabelNamesPerSeries: l.maxLabelNamesPerSeries || 1e9, maxLabelNameLength: l.maxLabelNameLength || 1e9, maxLabelValueLength: l.maxLabelValueLength || 1e9 };
      },
      registry: this.opts.registry,
      logger: this.opts.logger.with({ component: 'remote-write', tenant: t.tenant }),
      // remote_write.request → remote_write.decode / remote_write.commit spans.
      ...(this.opts.tracer?.enabled ? { tracer: this.opts.tracer, spanTags: { tenant: t.tenant } } : {}),
    });
    return rt.rw;
  }

  /** The /metrics body of a request's tenant. */
  async metrics(t: RequestTenant, extra: () => Promise<string>): Promise<string> {
    const label = this.tenancy().tenantLabel;
    const join = (a: string, b: string): string => (b === '' ? a : a === '' || a.endsWith('\n') ? a + b : `${a}\n${b}`);
    if (t.admin) {
      // Everything: the main registry, then each tenant's registry (its samples get the tenant
      // label) and synthesized series, merged so each family appears once.
      const parts: ExpositionPart[] = [{ text: join(await this.opts.registry.metrics(), await extra()) }];
      for (const rt of this.runtimes.values()) {
        if (rt.tenant === this.defaultTenant) continue;
        parts.push({ text: await rt.registry.metrics(), labels: { [label]: rt.tenant } });
        parts.push({ text: await rt.alerting.exposition(this.opts.registry, label) });
      }
      const merged = mergeExpositions(parts);
      if (merged.conflicts.length > 0) this.opts.logger.debug('admin /metrics: families with conflicting types dropped', { families: merged.conflicts.slice(0, 10).join(',') });
      return merged.text;
    }
    const own = filterTenantLines(await this.opts.registry.metrics(), t.tenant);
    if (t.tenant === this.defaultTenant) return join(own, await extra());
    // Another tenant: its own rule/notifier metrics, synthesized series and vigil_tenant_* lines only.
    const rt = this.runtimes.get(t.tenant);
    const tenantLines = own
      .split('\n')
      .filter((l) => l.startsWith('vigil_tenant_'))
      .join('\n');
    if (!rt) return tenantLines === '' ? '' : tenantLines + '\n';
    return join(join(await rt.registry.metrics(), await rt.alerting.exposition(rt.registry, label)), tenantLines === '' ? '' : tenantLines + '\n');
  }

  /** Rules and alerts API data of a tenant. */
  runtime(tenant: string): { alerting: Alerting } | undefined {
    return this.runtimes.get(tenant);
  }

  /** Stops every tenant's alerting, then closes every storage. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.runtimes.values()].map((r) => r.alerting.stop()));
    await this.storages.close();
  }
}
