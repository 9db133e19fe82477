/**
 * The `tenancy:` and `limits:` sections of the config file → validated {@link TenancyConfig}
 * and {@link LimitsConfig}, with file:line errors like the rest of the loader. The loader
 * passes its own `alerting:` parser so a tenant's Alertmanagers use exactly the top-level format.
 */
import type { LimitsConfig, TenancyConfig, TenantLimitsConfig, TenantSettingsConfig, VigilConfig } from '../config/types.js';
import type { YNode } from '../config/yaml-node.js';
import { tenantIdProblem } from './tenant-id.js';

/** Default tenant id. */
export const DEFAULT_TENANT = 'anonymous';

/** Defaults of the `tenancy:` section (also used when it is absent). */
export const DEFAULT_TENANCY: TenancyConfig = Object.freeze({
  header: 'X-Scope-OrgID',
  defaultTenant: DEFAULT_TENANT,
  required: false,
  tenantLabel: 'tenant',
  maxTenants: 1000,
  tenants: {},
});

/** Built-in per-tenant limits (0 = unlimited). Generous enough not to bite a single-tenant sidecar. */
export const DEFAULT_TENANT_LIMITS: TenantLimitsConfig = Object.freeze({
  ingestionRate: 1_000_000,
  ingestionBurst: 2_000_000,
  maxActiveSeries: 5_000_000,
  maxSeriesPerMetric: 0,
  maxLabelNamesPerSeries: 64,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 4096,
  maxExemplarsPerRequest: 0,
  maxRuleGroups: 0,
  maxRulesPerGroup: 0,
  maxQuerySamples: 50_000_000,
  maxQuerySeries: 0,
  maxConcurrentQueries: 0,
  maxQueryLength: 64 * 1024,
  queryTimeout: 0,
});

/** Defaults of the `limits:` section. */
export const DEFAULT_LIMITS_CONFIG: LimitsConfig = Object.freeze({ defaults: DEFAULT_TENANT_LIMITS, overrides: {} });

/** YAML key → field of {@link TenantLimitsConfig}, with the kind of value. */
export const LIMIT_KEYS: Readonly<Record<string, { field: keyof TenantLimitsConfig; kind: 'uint' | 'duration' }>> = Object.freeze({
  ingestion_rate: { field: 'ingestionRate', kind: 'uint' },
  ingestion_burst_size: { field: 'ingestionBurst', kind: 'uint' },
  max_active_series: { field: 'maxActiveSeries', kind: 'uint' },
  max_series_per_metric: { field: 'maxSeriesPerMetric', kind: 'uint' },
  max_label_names_per_series: { field: 'maxLabelNamesPerSeries', kind: 'uint' },
  max_label_name_length: { field: 'maxLabelNameLength', kind: 'uint' },
  max_label_value_length: { field: 'maxLabelValueLength', kind: 'uint' },
  max_exemplars_per_request: { field: 'maxExemplarsPerRequest', kind: 'uint' },
  max_rule_groups: { field: 'maxRuleGroups', kind: 'uint' },
  max_rules_per_group: { field: 'maxRulesPerGroup', kind: 'uint' },
  max_query_samples: { field: 'maxQuerySamples', kind: 'uint' },
  max_query_series: { field: 'maxQuerySeries', kind: 'uint' },
  max_concurrent_queries: { field: 'maxConcurrentQueries', kind: 'uint' },
  max_query_length: { field: 'maxQueryLength', kind: 'uint' },
  query_timeout: { field: 'queryTimeout', kind: 'duration' },
});

/** The YAML key of a limit field (for messages naming the limit). */
export function limitKey(field: keyof TenantLimitsConfig): string {
  for (const [k, v] of Object.entries(LIMIT_KEYS)) if (v.field === field) return k;
  return field;
}

const HEADER_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function tenantId(n: YNode, id: string, what: string): string {
  const p = tenantIdProblem(id);
  if (p !== undefined) throw n.error(`${what}: invalid tenant id ${JSON.stringify(id.slice(0, 40))}: ${p}`);
  return id;
}

function parseLimitsMap(n: YNode): Partial<Record<keyof TenantLimitsConfig, number>> {
  const m = n.map(Object.keys(LIMIT_KEYS));
  const out: Partial<Record<keyof TenantLimitsConfig, number>> = {};
  for (const [k, v] of m) {
    if (v.isNull) continue;
    const spec = LIMIT_KEYS[k]!;
    out[spec.field] = spec.kind === 'duration' ? v.duration() : v.uint();
  }
  return out;
}

/** Parses `limits:`; absent = {@link DEFAULT_LIMITS_CONFIG}. */
export function parseLimitsSection(n: YNode | undefined): LimitsConfig {
  if (!n || n.isNull) return DEFAULT_LIMITS_CONFIG;
  const m = n.map(['defaults', 'overrides']);
  const d = m.get('defaults');
  const defaults: TenantLimitsConfig = { ...DEFAULT_TENANT_LIMITS, ...(d && !d.isNull ? parseLimitsMap(d) : {}) };
  const overrides: Record<string, Partial<TenantLimitsConfig>> = {};
  const o = m.get('overrides');
  if (o && !o.isNull) {
    for (const [id, v] of o.entries()) overrides[tenantId(o, id, 'limits.overrides')] = v.isNull ? {} : parseLimitsMap(v);
  }
  return { defaults, overrides };
}

/** Parses `tenancy:`; absent = {@link DEFAULT_TENANCY}. `parseAlerting` is the loader's `alerting:` parser. */
export function parseTenancySection(n: YNode | undefined, parseAlerting: (n: YNode) => VigilConfig['alerting']): TenancyConfig {
  if (!n || n.isNull) return DEFAULT_TENANCY;
  const m = n.map(['header', 'default_tenant', 'required', 'tenant_label', 'max_tenants', 'tenants']);
  const opt = <T>(k: string, read: (x: YNode) => T, dflt: T): T => {
    const x = m.get(k);
    return x === undefined || x.isNull ? dflt : read(x);
  };
  const header = opt('header', (x) => x.str(), DEFAULT_TENANCY.header);
  if (!HEADER_RE.test(header)) throw m.get('header')!.error(`tenancy.header: ${JSON.stringify(header)} is not a valid HTTP header name`);
  const dt = m.get('default_tenant');
  const defaultTenant = dt && !dt.isNull ? tenantId(dt, dt.str(), 'tenancy.default_tenant') : DEFAULT_TENANCY.defaultTenant;
  const tenantLabel = opt('tenant_label', (x) => x.str(), DEFAULT_TENANCY.tenantLabel);
  if (!LABEL_NAME.test(tenantLabel) || tenantLabel.startsWith('__')) throw m.get('tenant_label')!.error(`tenancy.tenant_label: ${JSON.stringify(tenantLabel)} is not a valid label name`);
  const maxTenants = opt('max_tenants', (x) => x.uint(), DEFAULT_TENANCY.maxTenants);
  if (maxTenants < 1) throw m.get('max_tenants')!.error('tenancy.max_tenants must be at least 1');
  const tenants: Record<string, TenantSettingsConfig> = {};
  const tn = m.get('tenants');
  if (tn && !tn.isNull) {
    for (const [id, v] of tn.entries()) {
      tenantId(tn, id, 'tenancy.tenants');
      if (v.isNull) {
        tenants[id] = { externalLabels: {} };
        continue;
      }
      const tm = v.map(['external_labels', 'alerting', 'correlation']);
      const el = tm.get('external_labels');
      const externalLabels = el && !el.isNull ? el.strMap() : {};
      for (const k of Object.keys(externalLabels)) if (!LABEL_NAME.test(k)) throw el!.error(`tenancy.tenants.${id}.external_labels: ${JSON.stringify(k)} is not a valid label name`);
      const al = tm.get('alerting');
      const co = tm.get('correlation');
      tenants[id] = {
        externalLabels,
        ...(al && !al.isNull ? { alerting: parseAlerting(al) } : {}),
        ...(co && !co.isNull ? { correlation: co.toJS() } : {}),
      };
    }
  }
  return { header, defaultTenant, required: opt('required', (x) => x.bool(), false), tenantLabel, maxTenants, tenants };
}

/** Effective limits of `tenant`: the defaults with its overrides applied. */
export function limitsFor(cfg: LimitsConfig | undefined, tenant: string): TenantLimitsConfig {
  const c = cfg ?? DEFAULT_LIMITS_CONFIG;
  const o = c.overrides[tenant];
  return o ? { ...c.defaults, ...o } : c.defaults;
}
