import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig, parseFsyncPolicy } from '../../src/config/loader.js';
import { DEFAULT_CONFIG_NAME, defaultConfig, repoRoot } from '../../src/config/default.js';
import { redactConfigYaml } from '../../src/config/redact.js';

const F = '/etc/vigil/config.yml';
const parse = (text: string) => parseConfig(text, F);
const errOf = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig: defaults', () => {
  it('{} is a bare receiver: Prometheus globals, receiver on, host off, nothing else', () => {
    const c = parse('{}');
    expect(c.global).toEqual({ scrapeInterval: 60_000, scrapeTimeout: 10_000, evaluationInterval: 60_000, externalLabels: {} });
    expect(c.scrapeConfigs).toEqual([]);
    expect(c.ruleFiles).toEqual([]);
    expect(c.remoteWrite).toEqual([]);
    expect(c.alerting).toEqual({ alertmanagers: [], alertRelabelConfigs: [] });
    expect(c.receiver.enabled).toBe(true);
    expect(c.host.enabled).toBe(false);
    expect(c.storage.walFsync).toBe(1000);
    expect(c.correlation).toBeUndefined();
  });

  it('an empty file behaves like {}', () => {
    expect(parse('')).toEqual(parse('{}'));
    expect(parse('# only a comment\n')).toEqual(parse('{}'));
  });

  it('scrape config inherits global interval/timeout and Prometheus defaults', () => {
    const c = parse(`
global:
  scrape_interval: 15s
  scrape_timeout: 5s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ['localhost:8080']
        labels: { team: a }
  - job_name: fast
    scrape_interval: 2s
`);
    const [a, b] = c.scrapeConfigs;
    expect(a).toMatchObject({
      jobName: 'app',
      scrapeInterval: 15_000,
      scrapeTimeout: 5_000,
      metricsPath: '/metrics',
      scheme: 'http',
      honorLabels: false,
      honorTimestamps: true,
      bodySizeLimit: 0,
      sampleLimit: 0,
      staticConfigs: [{ targets: ['localhost:8080'], labels: { team: 'a' } }],
      relabelConfigs: [],
    });
    // timeout defaults to min(global timeout, interval)
    expect(b!.scrapeTimeout).toBe(2_000);
  });

  it('the embedded default has host and receiver on and the shipped rule packs', () => {
    const d = defaultConfig();
    expect(d.file).toBe(DEFAULT_CONFIG_NAME);
    expect(d.config.host.enabled).toBe(true);
    expect(d.config.receiver.enabled).toBe(true);
    expect(d.config.scrapeConfigs).toEqual([]);
    expect(d.config.ruleFiles).toEqual([path.join(repoRoot(), 'rules', '*.yaml')]);
  });
});

describe('parseConfig: every section', () => {
  const full = `
global:
  scrape_interval: 30s
  scrape_timeout: 20s
  evaluation_interval: 1h30m
  external_labels: { cluster: prod, region: eu }
rule_files:
  - rules/*.yaml
  - /abs/other.yml
scrape_configs:
  - job_name: node
    scrape_interval: 1m
    scrape_timeout: 30s
    metrics_path: /probe
    scheme: https
    params: { module: [http_2xx] }
    honor_labels: true
    honor_timestamps: false
    body_size_limit: 10MB
    sample_limit: 5000
    basic_auth: { username: u, password: p }
    tls_config: { ca_file: ca.pem, insecure_skip_verify: true }
    file_sd_configs:
      - files: [sd/*.json]
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):\\d+'
        target_label: host
      - action: labeldrop
        regex: tmp_.*
      - action: hashmod
        source_labels: [__address__]
        modulus: 4
        target_label: __tmp_hash
    metric_relabel_configs:
      - action: drop
        source_labels: [__name__]
        regex: go_.*
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
  alertmanagers:
    - scheme: http
      path_prefix: /am
      timeout: 5s
      static_configs:
        - targets: ['am:9093']
remote_write:
  - url: https://mimir.example/api/v1/push
    remote_timeout: 10s
    headers: { X-Scope-OrgID: t1 }
    authorization: { credentials: tok }
    write_relabel_configs:
      - action: keep
        source_labels: [__name__]
        regex: 'up|ALERTS'
host:
  interval: 10s
  procfs: /host/proc
  collectors: [cpu, meminfo]
  expose_on_metrics: false
remote_write_receiver:
  max_body_bytes: 1MB
  max_decompressed_bytes: 8MiB
storage:
  wal_fsync: always
  wal_segment_bytes: 64MB
correlation:
  elasticsearch: { nodes: [http://es:9200] }
tenancy: { required: true }
limits: { defaults: { max_active_series: 100 } }
`;

  it('parses everything with the right units and resolved paths', () => {
    const c = parse(full);
    expect(c.global).toEqual({ scrapeInterval: 30_000, scrapeTimeout: 20_000, evaluationInterval: 5_400_000, externalLabels: { cluster: 'prod', region: 'eu' } });
    expect(c.ruleFiles).toEqual(['/etc/vigil/rules/*.yaml', '/abs/other.yml']);
    const s = c.scrapeConfigs[0]!;
    expect(s).toMatchObject({
      scrapeInterval: 60_000,
      scrapeTimeout: 30_000,
      metricsPath: '/probe',
      scheme: 'https',
      params: { module: ['http_2xx'] },
      honorLabels: true,
      honorTimestamps: false,
      bodySizeLimit: 10 * 1024 * 1024,
      sampleLimit: 5000,
      basicAuth: { username: 'u', password: 'p' },
      tls: { caFile: '/etc/vigil/ca.pem', insecureSkipVerify: true },
      fileSdConfigs: [{ files: ['/etc/vigil/sd/*.json'], refreshInterval: 300_000 }],
    });
    expect(s.relabelConfigs[0]).toEqual({ sourceLabels: ['__address__'], separator: ';', regex: '(.*):\\d+', modulus: 0, targetLabel: 'host', replacement: '$1', action: 'replace' });
    expect(s.relabelConfigs[1]!.action).toBe('labeldrop');
    expect(s.relabelConfigs[2]).toMatchObject({ action: 'hashmod', modulus: 4 });
    expect(s.metricRelabelConfigs[0]).toMatchObject({ action: 'drop', regex: 'go_.*' });
    expect(c.alerting.alertmanagers[0]).toEqual({ scheme: 'http', pathPrefix: '/am', timeout: 5000, apiVersion: 'v2', staticConfigs: [{ targets: ['am:9093'], labels: {} }] });
    expect(c.alerting.alertRelabelConfigs[0]!.action).toBe('labeldrop');
    expect(c.remoteWrite[0]).toMatchObject({ url: 'https://mimir.example/api/v1/push', name: 'remote_write_0', remoteTimeout: 10_000, headers: { 'X-Scope-OrgID': 't1' }, bearerToken: 'tok' });
    expect(c.remoteWrite[0]!.writeRelabelConfigs[0]!.action).toBe('keep');
    expect(c.host).toEqual({ enabled: true, interval: 10_000, procfs: '/host/proc', sysfs: '/sys', rootfs: '/', collectors: ['cpu', 'meminfo'], exposeOnMetrics: false });
    expect(c.receiver).toEqual({ enabled: true, maxBodyBytes: 1024 * 1024, maxDecompressedBytes: 8 * 1024 * 1024 });
    expect(c.storage).toEqual({ walFsync: 'always', walSegmentBytes: 64 * 1024 * 1024 });
    expect(c.correlation).toEqual({ elasticsearch: { nodes: ['http://es:9200'] } });
    expect(c.tenancy?.required).toBe(true);
    expect(c.tenancy?.header).toBe('X-Scope-OrgID');
    expect(c.limits?.defaults.maxActiveSeries).toBe(100);
  });

  it('redacts secrets in the status YAML but keeps the rest', () => {
    const y = redactConfigYaml(full);
    expect(y).not.toMatch(/password: p\b/);
    expect(y).not.toContain('tok');
    expect(y).not.toContain('t1');
    expect(y).toContain('password: <secret>');
    expect(y).toContain('credentials: <secret>');
    expect(y).toContain('job_name: node');
  });
});

describe('parseConfig: errors name file and line', () => {
  it('unknown key in global', () => {
    expect(errOf('global:\n  scrape_intervall: 15s\n')).toBe(`${F}:2: unknown key "scrape_intervall" in global`);
  });

  it('unknown top-level key', () => {
    expect(errOf('\n\nscrape_config: []\n')).toBe(`${F}:3: unknown key "scrape_config" in the top level`);
  });

  it('unknown key in a nested list entry', () => {
    expect(errOf('scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [x:1]\n        lables: {}\n')).toBe(
      `${F}:5: unknown key "lables" in scrape_configs[0].static_configs[0]`,
    );
  });

  it('bad durations', () => {
    expect(errOf('global:\n  scrape_interval: 15\n')).toMatch(/^\/etc\/vigil\/config\.yml:2: global\.scrape_interval: not a valid duration string: "15"/);
    expect(errOf('global:\n  evaluation_interval: 1m1h\n')).toMatch(/:2: .*not a valid duration/);
    expect(errOf('global:\n  scrape_interval: -5s\n')).toMatch(/:2: .*not a valid duration/);
    expect(errOf('global:\n  scrape_interval: 0s\n')).toMatch(/:2: global\.scrape_interval must be greater than 0/);
  });

  it('type errors say what was expected', () => {
    expect(errOf('global: [1, 2]\n')).toBe(`${F}:1: global: expected a mapping, got a list`);
    expect(errOf('scrape_configs:\n  - job_name: a\n    honor_labels: "yes"\n')).toBe(`${F}:3: scrape_configs[0].honor_labels: expected true or false, got string "yes"`);
    expect(errOf('rule_files: a.yml\n')).toBe(`${F}:1: rule_files: expected a list, got string "a.yml"`);
    expect(errOf('scrape_configs:\n  - job_name: a\n    sample_limit: -1\n')).toMatch(/:3: scrape_configs\[0\]\.sample_limit: expected a non-negative integer/);
  });

  it('semantic errors', () => {
    expect(errOf('scrape_configs:\n  - scrape_interval: 1s\n')).toMatch(/:2: scrape_configs\[0\]: job_name is required/);
    expect(errOf('scrape_configs:\n  - job_name: a\n  - job_name: a\n')).toMatch(/:3: found multiple scrape configs with job name "a"/);
    expect(errOf('scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n')).toMatch(/:4: scrape timeout greater than scrape interval/);
    expect(errOf('scrape_configs:\n  - job_name: a\n    scheme: ftp\n')).toMatch(/:3: .*expected "http" or "https"/);
    expect(errOf('remote_write:\n  - url: ftp://x\n')).toMatch(/:2: .*scheme must be http or https/);
    expect(errOf('remote_write:\n  - name: x\n')).toMatch(/:2: remote_write\[0\]: url is required/);
    expect(errOf('alerting:\n  alertmanagers:\n    - api_version: v1\n')).toMatch(/:3: .*only "v2" is supported/);
    expect(errOf('global:\n  external_labels: { "bad-name": x }\n')).toMatch(/:2: .*"bad-name" is not a valid label name/);
    expect(errOf('storage:\n  wal_fsync: sometimes\n')).toMatch(/:2: storage\.wal_fsync/);
  });

  it('relabel validation', () => {
    const sc = (r: string) => `scrape_configs:\n  - job_name: a\n    relabel_configs:\n${r}`;
    expect(errOf(sc('      - action: bogus\n'))).toMatch(/:4: .*unknown relabel action "bogus"/);
    expect(errOf(sc('      - action: replace\n        regex: "(a"\n'))).toMatch(/:5: .*invalid regex/);
    expect(errOf(sc('      - action: hashmod\n        target_label: x\n'))).toMatch(/:4: .*requires a modulus/);
    expect(errOf(sc('      - action: replace\n        source_labels: [a]\n'))).toMatch(/requires target_label/);
    expect(errOf(sc('      - action: labeldrop\n        source_labels: [a]\n'))).toMatch(/only takes regex/);
  });

  it('YAML syntax errors and duplicate keys carry a line', () => {
    expect(errOf('global:\n  scrape_interval: 15s\n  scrape_interval: 30s\n')).toMatch(/^\/etc\/vigil\/config\.yml:3: YAML syntax error/);
    expect(errOf('global: {\n  a: [\n')).toMatch(/^\/etc\/vigil\/config\.yml:\d+: YAML syntax error/);
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-cfg-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and resolves rule_files relative to its directory', async () => {
    const f = path.join(dir, 'vigil.yml');
    await writeFile(f, 'rule_files: [r/*.yaml]\n');
    const l = await loadConfigFile(f);
    expect(l.file).toBe(f);
    expect(l.config.ruleFiles).toEqual([path.join(dir, 'r/*.yaml')]);
  });

  it('errors for a missing file and for files over 8 MiB', async () => {
    await expect(loadConfigFile(path.join(dir, 'nope.yml'))).rejects.toThrow(/nope\.yml: cannot read config file: no such file/);
    const big = path.join(dir, 'big.yml');
    await writeFile(big, '#'.repeat(8 * 1024 * 1024 + 1));
    await expect(loadConfigFile(big)).rejects.toThrow(/larger than the limit/);
  });
});

describe('parseFsyncPolicy', () => {
  it('accepts always, never and durations', () => {
    expect(parseFsyncPolicy('always')).toBe('always');
    expect(parseFsyncPolicy('never')).toBe('never');
    expect(parseFsyncPolicy('250ms')).toBe(250);
    expect(() => parseFsyncPolicy('0s')).toThrow(/greater than 0/);
    expect(() => parseFsyncPolicy('fast')).toThrow(/not a valid duration/);
  });
});
