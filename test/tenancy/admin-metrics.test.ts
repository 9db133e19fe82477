/**
 * Admin `/metrics` with tenancy: the main registry and every tenant's registry are merged into
 * one valid exposition (one `# TYPE` per family, tenant samples carry the tenant label), checked
 * with the real `promtool check metrics` parser. Also unit tests of {@link mergeExpositions}.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { mergeExpositions } from '../../src/tenancy/merge-exposition.js';
import { hashSecret } from '../../src/tenancy/secrets.js';
import { getAs, remoteWrite, waitFor, writeBody } from './helpers.js';

const FAST = { N: 1024, r: 8, p: 1 };
const ADMIN = { Authorization: `Basic ${Buffer.from('root:root-PASSWORD').toString('base64')}` };
const TOKENS: Record<string, string> = { 'team-a': 'token-a-SECRET', 'team-b': 'token-b-SECRET' };
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

/** Runs `promtool check metrics`; returns its parse error ('' when the text parses). Lint warnings are ignored. */
function promtoolParseError(text: string): string {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
  const out = `${r.stdout}${r.stderr}`;
  const m = /error while linting: .*/.exec(out);
  return m ? m[0] : '';
}

/** `# TYPE` names appearing more than once. */
function duplicateTypes(text: string): string[] {
  const seen = new Map<string, number>();
  for (const l of text.split('\n')) {
    const m = /^# TYPE (\S+)/.exec(l);
    if (m) seen.set(m[1]!, (seen.get(m[1]!) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

describe('mergeExpositions', () => {
  it('merges same-named families and labels tenant samples', () => {
    const a = '# HELP x_total X.\n# TYPE x_total counter\nx_total{g="1"} 1\n# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 2\nh_count 1\n';
    const b = '# HELP x_total X.\n# TYPE x_total counter\nx_total{g="1"} 5\nx_total 7\n# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 3\nh_sum 4\nh_count 3\n';
    const { text, conflicts } = mergeExpositions([{ text: a }, { text: b, labels: { tenant: 'team "b"' } }]);
    expect(conflicts).toEqual([]);
    expect(duplicateTypes(text)).toEqual([]);
    expect(text).toContain('x_total{g="1"} 1\n');
    expect(text).toContain('x_total{tenant="team \\"b\\"",g="1"} 5\n');
    expect(text).toContain('x_total{tenant="team \\"b\\""} 7\n');
    expect(text).toContain('h_count{tenant="team \\"b\\""} 3\n');
    // samples of a family stay contiguous, after its TYPE line
    const lines = text.split('\n');
    const ti = lines.indexOf('# TYPE h histogram');
    expect(lines.slice(ti + 1, ti + 7).every((l) => l.startsWith('h_'))).toBe(true);
    if (hasPromtool) expect(promtoolParseError(text)).toBe('');
  });

  it('keeps an existing tenant label, drops conflicting types and duplicate series', () => {
    const a = '# TYPE m gauge\nm{tenant="x"} 1\n';
    const b = '# TYPE m gauge\nm{tenant="x"} 2\nm{tenant="y"} 3\n# TYPE n gauge\nn 1\n';
    const c = '# TYPE n counter\nn 9\n';
    const { text, conflicts } = mergeExpositions([{ text: a }, { text: b, labels: { tenant: 'z' } }, { text: c }]);
    expect(text).toBe('# TYPE m gauge\nm{tenant="x"} 1\nm{tenant="y"} 3\n# TYPE n gauge\nn{tenant="z"} 1\n');
    expect(conflicts).toEqual(['n']);
  });

  it('never throws on garbage lines', () => {
    expect(mergeExpositions([{ text: '{{{\n# TYPE\nfoo{a="unterminated 1\n\n' }]).text).toBe('');
  });
});

describe.skipIf(!hasPromtool)('admin /metrics with two tenants', () => {
  let dir: string;
  let app: App;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-adm-'));
    const groups = Object.keys(TOKENS)
      .map((t) => `  - name: g_${t}\n    tenant: ${t}\n    interval: 1s\n    rules:\n      - record: rec_sum\n        expr: sum(up_metric)\n      - alert: UpAlert\n        expr: up_metric > 0\n`)
      .join('');
    await writeFile(path.join(dir, 'rules.yml'), `groups:\n${groups}`);
    await writeFile(path.join(dir, 'vigil.yml'), 'rule_files: [rules.yml]\ntenancy:\n  tenants: { team-a: {}, team-b: {} }\n');
    const web = [
      'credentials:',
      ...(await Promise.all(Object.entries(TOKENS).map(async ([t, tok]) => `  - {name: ${t}, tenant: ${t}, bearer_token_hash: "${await hashSecret(tok, FAST)}"}`))),
      `  - {name: root, role: admin, basic_auth: {username: root, password_hash: "${await hashSecret('root-PASSWORD', FAST)}"}}`,
    ];
    await writeFile(path.join(dir, 'web.yml'), web.join('\n') + '\n');
    app = await startApp({ configFile: path.join(dir, 'vigil.yml'), webConfigFile: path.join(dir, 'web.yml'), listenAddress: '127.0.0.1:0', storagePath: path.join(dir, 'data'), walFsync: 'never', registry: new Registry() });
    for (const [t, tok] of Object.entries(TOKENS)) {
      const body = writeBody([{ labels: { __name__: 'up_metric', job: 'j' }, points: [[Date.now() - 1000, 1]] }]);
      expect((await remoteWrite(app.url, body, undefined, { Authorization: `Bearer ${tok}` })).status).toBe(204);
    }
    for (const tok of Object.values(TOKENS)) {
      expect(await waitFor(async () => (await getAs(app.url, '/api/v1/alerts', undefined, { Authorization: `Bearer ${tok}` })).text.includes('UpAlert'), 10_000)).toBe(true);
    }
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is one valid exposition: promtool parses it, no duplicate TYPE, tenant series distinct', async () => {
    const r = await getAs(app.url, '/metrics', undefined, ADMIN);
    expect(r.status).toBe(200);
    expect(duplicateTypes(r.text)).toEqual([]);
    expect(promtoolParseError(r.text)).toBe('');
    // both tenants' rule metrics are present, told apart by the tenant label
    for (const t of Object.keys(TOKENS)) {
      expect(r.text).toMatch(new RegExp(`^vigil_rule_group_rules\\{[^}]*tenant="${t}"`, 'm'));
      expect(r.text).toMatch(new RegExp(`^rec_sum\\{[^}]*tenant="${t}"`, 'm'));
    }
  });

  it('a tenant still sees only its own /metrics', async () => {
    const r = await getAs(app.url, '/metrics', undefined, { Authorization: `Bearer ${TOKENS['team-a']}` });
    expect(r.status).toBe(200);
    expect(r.text).toContain('g_team-a');
    expect(r.text).not.toContain('g_team-b');
    expect(promtoolParseError(r.text)).toBe('');
  });
});
