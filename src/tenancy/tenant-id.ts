/**
 * Tenant ids: what a client may name in the tenant header (`X-Scope-OrgID` by default), in a
 * rule group's `tenant:` or in the config. Ids become directory names
 * (`<storage.path>/tenants/<id>/`), so the charset is restricted and `.`/`..` are refused.
 */
import { ValidationError } from '../model/errors.js';

/** Longest accepted tenant id (Cortex/Mimir use the same bound). */
export const MAX_TENANT_ID_LENGTH = 150;

const TENANT_CHARS = /^[a-zA-Z0-9_.-]+$/;

/** Error for an invalid tenant id (answered 400). Never echoes more than a bounded prefix of the input. */
export class TenantIdError extends ValidationError {
  override name = 'TenantIdError';
}

/** Returns a reason why `id` is not a valid tenant id, or undefined when it is valid. */
export function tenantIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'tenant id must not be empty';
  if (id.length > MAX_TENANT_ID_LENGTH) return `tenant id is longer than ${MAX_TENANT_ID_LENGTH} characters`;
  if (id === '.' || id === '..') return 'tenant id must not be "." or ".."';
  if (!TENANT_CHARS.test(id)) return 'tenant id may only contain the characters a-z A-Z 0-9 _ . -';
  return undefined;
}

/** True for a valid tenant id. */
export function isValidTenantId(id: string): boolean {
  return tenantIdProblem(id) === undefined;
}

/** Throws {@link TenantIdError} when `id` is invalid; returns it otherwise. */
export function validateTenantId(id: string): string {
  const p = tenantIdProblem(id);
  if (p !== undefined) throw new TenantIdError(`invalid tenant id ${JSON.stringify(id.slice(0, 40))}${id.length > 40 ? '…' : ''}: ${p}`);
  return id;
}
