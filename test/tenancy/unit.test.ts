/** Unit tests: tenant ids, tenant resolution, token bucket, secret hashing, config sections, regex safety. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/loader.js';
import { parseExpr } from '../../src/promql/parser/index.js';
import { regexProblem, safeMatcher } from '../../src/promql/parser/regex-safety.js';
import { certField, parseWebConfig } from '../../src/tenancy/auth.js';
import { DEFAULT_TENANCY, limitsFor } from '../../src/tenancy/config.js';
import { resolveTenant } from '../../src/tenancy/resolve.js';
import { hashSecret, parseHash, verifySecret } from '../../src/tenancy/secrets.js';
import { isValidTenantId, validateTenantId } from '../../src/tenancy/tenant-id.js';
import { TokenBucket } from '../../src/tenancy/token-bucket.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('tenant ids', () => {
  it('accepts the documented charset and refuses the rest', () => {
    for (const ok of ['a', 'team-a', 'T_1.x', 'x'.repeat(150)]) expect(isValidTenantId(ok)).toBe(true);
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'ü', 'x'.repeat(151), 'a\0']) expect(isValidTenantId(bad)).toBe(false);
    expect(() => validateTenantId('y'.repeat(500))).toThrow(/longer than 150/);
    try {
      validateTenantId('y'.repeat(500));
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(200);
    }
  });
});

describe('resolveTenant', () => {
  const cfg = DEFAULT_TENANCY;
  it('anonymous: header, default tenant, or refusal when required', () => {
    expect(resolveTenant(cfg, { kind: 'anonymous' }, 'team-a')).toEqual({ kind: 'ok', tenant: 'team-a', admin: false });
    expect(resolveTenant(cfg, { kind: 'anonymous' }, undefined)).toEqual({ kind: 'ok', tenant: 'anonymous', admin: false });
    expect(resolveTenant({ ...cfg, required: true }, { kind: 'anonymous' }, undefined)).toMatchObject({ kind: 'error', status: 401 });
    expect(resolveTenant(cfg, { kind: 'anonymous' }, '..')).toMatchObject({ kind: 'error', status: 400 });
    expect(resolveTenant(cfg, { kind: 'anonymous' }, ['a', 'b'])).toMatchObject({ kind: 'error', status: 400 });
  });
  it('a tenant credential is bound to its tenant; an admin may name any', () => {
    const p = { kind: 'tenant', tenant: 'a', name: 'c' } as const;
    expect(resolveTenant(cfg, p, undefined)).toEqual({ kind: 'ok', tenant: 'a', admin: false });
    expect(resolveTenant(cfg, p, 'a')).toEqual({ kind: 'ok', tenant: 'a', admin: false });
    expect(resolveTenant(cfg, p, 'b')).toMatchObject({ kind: 'error', status: 403 });
    expect(resolveTenant(cfg, { kind: 'admin', name: 'x' }, 'b')).toEqual({ kind: 'ok', tenant: 'b', admin: true });
    expect(resolveTenant(cfg, { kind: 'admin', name: 'x' }, undefined)).toEqual({ kind: 'ok', tenant: 'anonymous', admin: true });
  });
});

describe('TokenBucket', () => {
  it('refills at the rate, caps at the burst, tells when to retry', () => {
    let t = 0;
    const b = new TokenBucket(10, 20, { now: () => t });
    expect(b.take(20)).toEqual({ kind: 'ok' });
    expect(b.take(5)).toEqual({ kind: 'wait', retryAfterSeconds: 1 });
    t = 500;
    expect(b.take(5)).toEqual({ kind: 'ok' });
    expect(b.take(30)).toEqual({ kind: 'too-large' });
    t = 100_000;
    expect(b.available()).toBe(20);
    b.configure(0, 0);
    expect(b.take(1e9)).toEqual({ kind: 'ok' });
  });
});

describe('secrets', () => {
  it('verifies the right secret only, and parse errors never contain the hash', async () => {
    const h = await hashSecret('s3cret', FAST);
    expect(h.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifySecret('s3cret', parseHash(h))).toBe(true);
    expect(await verifySecret('s3creT', parseHash(h))).toBe(false);
    expect(() => parseHash('scrypt$3$8$1$AAAAAAAAAAA=$BBBBBBBBBBBBBBBBBBBBBB==')).toThrow(/power of two/);
    try {
      parseHash('plaintext-password');
    } catch (e) {
      expect((e as Error).message).not.toContain('plaintext-password');
    }
  });
  it('web config: credentials bound to a tenant or admin, errors without secrets', async () => {
    const h = await hashSecret('tok', FAST);
    const c = parseWebConfig(`credentials:\n  - {name: a, tenant: team-a, bearer_token_hash: "${h}"}\n  - {name: root, role: admin, basic_auth: {username: root, password_hash: "${h}"}}\n`, '/x/web.yml');
    expect(c.credentials.map((x) => [x.name, x.role, x.tenant])).toEqual([
      ['a', 'tenant', 'team-a'],
      ['root', 'admin', undefined],
    ]);
    expect(() => parseWebConfig('credentials:\n  - {tenant: "a/b", bearer_token_hash: "x"}\n', 'w.yml')).toThrow(/w.yml:2/);
    expect(() => parseWebConfig('credentials:\n  - {tenant: a, bearer_token_hash: "hunter2"}\n', 'w.yml')).toThrow(/^(?!.*hunter2)/s);
    expect(certField({ subject: { CN: 'team-a' } }, 'CN')).toBe('team-a');
    expect(certField({ subjectaltname: 'DNS:x.example, URI:spiffe://t/b' }, 'SAN_URI')).toBe('spiffe://t/b');
  });
});

describe('config sections', () => {
  it('parses tenancy and limits with defaults and overrides', () => {
    const c = parseConfig(
      `tenancy:
  header: X-Tenant
  required: true
  tenants:
    team-a:
      external_labels: {team: a}
      alerting: {alertmanagers: [{static_configs: [{targets: ["127.0.0.1:9093"]}]}]}
limits:
  defaults: {ingestion_rate: 10, query_timeout: 30s}
  overrides:
    team-a: {max_active_series: 5}
`,
      '/etc/v.yml',
    );
    expect(c.tenancy?.header).toBe('X-Tenant');
    expect(c.tenancy?.tenants['team-a']?.alerting?.alertmanagers[0]?.staticConfigs[0]?.targets).toEqual(['127.0.0.1:9093']);
    expect(limitsFor(c.limits, 'team-a')).toMatchObject({ ingestionRate: 10, queryTimeout: 30_000, maxActiveSeries: 5 });
    expect(limitsFor(c.limits, 'other').maxActiveSeries).toBe(5_000_000);
    expect(() => parseConfig('limits: {overrides: {"../x": {}}}', 'v.yml')).toThrow(/v.yml:1.*invalid tenant id/);
    expect(() => parseConfig('limits: {defaults: {max_series: 1}}', 'v.yml')).toThrow(/unknown key "max_series"/);
    expect(() => parseConfig('tenancy: {header: "bad header"}', 'v.yml')).toThrow(/not a valid HTTP header/);
  });
});

describe('regex safety', () => {
  it('refuses nested unbounded quantifiers and over-long patterns with a clear parse error', () => {
    for (const bad of ['(a+)+', '(x*y)*z', '(a{2,})+', '((ab)*c)+', '(?:.*a)+']) expect(regexProblem(bad)).toMatch(/nested quantifiers/);
    for (const ok of ['a+b+', '(foo|bar)+', '.*foo.*bar.*', '(ab)+', '[a+]+', '\\(a+\\)+', '(a+)?', 'a{2,3}']) expect(regexProblem(ok)).toBeUndefined();
    expect(regexProblem('a'.repeat(40_000))).toMatch(/longer|limit/);
    expect(() => parseExpr('x{a=~"(a+)+$"}')).toThrow(/nested quantifiers/);
  });
  it('polynomial patterns against long values finish fast (linear-engine fallback)', () => {
    const m = safeMatcher('=~', 'l', '.*a.*b.*c');
    const v = 'ab'.repeat(2048);
    const t0 = performance.now();
    expect(m.matches(v)).toBe(false);
    expect(m.matches('xaybzc')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
