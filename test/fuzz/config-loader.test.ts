/**
 * Fuzz: the config loader (Prometheus format + vigil sections incl. tenancy/limits) on YAML
 * built from its real keys with random values, plus random mutations of that text. Every case
 * must return a config or throw a ConfigError with file:line — never another error, never
 * take more than 1 s. Seed fixed and printed (override with FUZZ_SEED).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/loader.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 7_001;
const RUNS = 10_000; // per target, split between the two properties below
console.log(`config-loader fuzz seed=${SEED} runs=${RUNS}`);

const scalar = fc.oneof(
  fc.constantFrom('15s', '1m', '0s', '-1s', '1e9h', 'abc', 'true', 'false', 'null', '~', '0', '1', '-5', '3.5', '10MiB', '""', "'x'", 'http://h:1/p', 'ftp://x', '[]', '{}', 'X-Scope-OrgID', 'bad header', '../x', 'team-a', 'tenant'),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.integer({ min: -10, max: 1e6 }).map(String),
);
const KEYS: Record<string, readonly string[]> = {
  '': ['global', 'scrape_configs', 'rule_files', 'alerting', 'remote_write', 'host', 'remote_write_receiver', 'storage', 'tenancy', 'limits', 'correlation', 'bogus'],
  global: ['scrape_interval', 'scrape_timeout', 'evaluation_interval', 'external_labels'],
  tenancy: ['header', 'default_tenant', 'required', 'tenant_label', 'max_tenants', 'tenants'],
  limits: ['defaults', 'overrides'],
  defaults: ['ingestion_rate', 'ingestion_burst_size', 'max_active_series', 'max_series_per_metric', 'max_label_names_per_series', 'query_timeout', 'max_query_length', 'nope'],
  scrape: ['job_name', 'scrape_interval', 'scrape_timeout', 'metrics_path', 'scheme', 'static_configs', 'relabel_configs', 'basic_auth', 'tls_config', 'sample_limit'],
  storage: ['wal_fsync', 'wal_segment_bytes'],
  remote_write_receiver: ['enabled', 'max_body_bytes', 'max_decompressed_bytes'],
};

function block(section: string, depth: number): fc.Arbitrary<string> {
  const keys = KEYS[section] ?? KEYS.defaults!;
  const pad = '  '.repeat(depth);
  const entry = fc.tuple(fc.constantFrom(...keys), fc.nat(9)).chain(([k, pick]) => {
    if (depth < 2 && KEYS[k] && pick < 6) return block(k, depth + 1).map((b) => `${pad}${k}:\n${b}`);
    if (k === 'scrape_configs' && depth < 2 && pick < 6) return block('scrape', depth + 2).map((b) => `${pad}${k}:\n${pad}  -\n${b}`);
    if (k === 'overrides' || k === 'tenants') return fc.tuple(fc.constantFrom('team-a', '..', 'x y', 't'), block('defaults', depth + 2)).map(([t, b]) => `${pad}${k}:\n${pad}  ${t}:\n${b}`);
    return scalar.map((v) => `${pad}${k}: ${v}`);
  });
  return fc.array(entry, { minLength: 0, maxLength: 5 }).map((xs) => xs.join('\n') + '\n');
}

const doc = block('', 0);
const mutated = fc.tuple(doc, fc.nat(200), fc.constantFrom('', ':', '- ', '  ', '\t', '{', '"', '&a', '*a', '!!binary ', '\n  x: 1')).map(([d, at, ins]) => d.slice(0, at) + ins + d.slice(at));

function check(text: string): void {
  const t0 = performance.now();
  try {
    const c = parseConfig(text, '/fuzz/vigil.yml');
    expect(typeof c.global.scrapeInterval).toBe('number');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`non-ConfigError for ${JSON.stringify(text)}: ${String(e)}`);
    expect((e as Error).message).toMatch(/\/fuzz\/vigil\.yml/);
  }
  expect(performance.now() - t0).toBeLessThan(1000);
}

describe('config loader fuzz', () => {
  it(`${RUNS / 2} generated documents`, () => {
    fc.assert(fc.property(doc, check), { seed: SEED, numRuns: RUNS / 2 });
  }, 60_000);
  it(`${RUNS / 2} mutated documents`, () => {
    fc.assert(fc.property(mutated, check), { seed: SEED + 1, numRuns: RUNS / 2 });
  }, 60_000);
});
