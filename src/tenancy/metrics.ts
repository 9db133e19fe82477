/**
 * `vigil_tenant_*` self-metrics: per-tenant usage against limits, read at scrape time.
 * The web layer shows a tenant only its own `vigil_tenant_*` lines (see `filterTenantLines`).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TenantLimitsConfig } from '../config/types.js';
import { LIMIT_KEYS } from './config.js';

/** What the metrics read for one tenant. */
export interface TenantSnapshot {
  readonly tenant: string;
  readonly activeSeries: number;
  readonly samplesAccepted: number;
  readonly refused: ReadonlyMap<string, number>;
  readonly queriesInflight: number;
  readonly ruleGroups: number;
  readonly rules: number;
  readonly limits: TenantLimitsConfig;
}

/** Registers the tenant metrics on `registry`; `snapshot()` is called at each scrape. */
export function registerTenantMetrics(registry: Registry, snapshot: () => readonly TenantSnapshot[]): void {
  new Gauge({
    name: 'vigil_tenant_active_series',
    help: 'Series in the tenant\'s head.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()) this.set({ tenant: s.tenant }, s.activeSeries);
    },
  });
  new Gauge({
    name: 'vigil_tenant_limit',
    help: 'Configured per-tenant limit (0 = unlimited), by limit name as in the limits: config.',
    labelNames: ['tenant', 'limit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()) for (const [k, v] of Object.entries(LIMIT_KEYS)) this.set({ tenant: s.tenant, limit: k }, s.limits[v.field] / (v.kind === 'duration' ? 1000 : 1));
    },
  });
  new Counter({
    name: 'vigil_tenant_samples_accepted_total',
    help: 'Samples accepted by remote-write for the tenant.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()) this.inc({ tenant: s.tenant }, s.samplesAccepted);
    },
  });
  new Counter({
    name: 'vigil_tenant_refused_total',
    help: 'Items refused because of a per-tenant limit, by limit.',
    labelNames: ['tenant', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()) for (const [r, n] of s.refused) this.inc({ tenant: s.tenant, reason: r }, n);
    },
  });
  new Gauge({
    name: 'vigil_tenant_queries_inflight',
    help: 'Queries of the tenant running now.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()) this.set({ tenant: s.tenant }, s.queriesInflight);
    },
  });
  new Gauge({
    name: 'vigil_tenant_rule_groups',
    help: 'Rule groups of the tenant.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()) this.set({ tenant: s.tenant }, s.ruleGroups);
    },
  });
  new Gauge({
    name: 'vigil_tenant_rules',
    help: 'Rules of the tenant.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()) this.set({ tenant: s.tenant }, s.rules);
    },
  });
}

/**
 * Keeps, of `vigil_tenant_*` sample lines, only those of `tenant` (other lines pass through).
 * Used so one tenant's /metrics does not list the other tenants.
 */
export function filterTenantLines(text: string, tenant: string): string {
  const want = `tenant="${tenant.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return text
    .split('\n')
    .filter((l) => !l.startsWith('vigil_tenant_') || l.includes(want))
    .join('\n');
}
