/**
 * Which tenant a request acts for: from the principal (a tenant-bound credential fixes it),
 * the tenant header (default `X-Scope-OrgID`; anonymous and admin requests), or the default
 * tenant — or a refusal when `tenancy.required` is set.
 */
import type { TenancyConfig } from '../config/types.js';
import type { Principal } from './auth.js';
import { tenantIdProblem } from './tenant-id.js';

/** Outcome of {@link resolveTenant}. */
export type TenantResolution =
  | { readonly kind: 'ok'; readonly tenant: string; readonly admin: boolean }
  | { readonly kind: 'error'; readonly status: 400 | 401 | 403; readonly message: string };

/**
 * Resolves the tenant. `headerValue` is the raw tenant header (undefined when absent; several
 * values are refused). Messages never echo more than a short prefix of client input.
 */
export function resolveTenant(cfg: TenancyConfig, principal: Principal, headerValue: string | string[] | undefined): TenantResolution {
  if (Array.isArray(headerValue)) {
    if (headerValue.length > 1) return { kind: 'error', status: 400, message: `more than one ${cfg.header} header` };
    headerValue = headerValue[0];
  }
  const named = headerValue === undefined || headerValue.trim() === '' ? undefined : headerValue.trim();
  if (named !== undefined) {
    const p = tenantIdProblem(named);
    if (p !== undefined) return { kind: 'error', status: 400, message: `invalid ${cfg.header} header: ${p}` };
  }
  switch (principal.kind) {
    case 'tenant':
      if (named !== undefined && named !== principal.tenant) return { kind: 'error', status: 403, message: `credentials are not valid for the tenant named in ${cfg.header}` };
      return { kind: 'ok', tenant: principal.tenant, admin: false };
    case 'admin':
      return { kind: 'ok', tenant: named ?? cfg.defaultTenant, admin: true };
    case 'anonymous':
      if (named !== undefined) return { kind: 'ok', tenant: named, admin: false };
      if (cfg.required) return { kind: 'error', status: 401, message: `no tenant: the ${cfg.header} header is required` };
      return { kind: 'ok', tenant: cfg.defaultTenant, admin: false };
  }
}
