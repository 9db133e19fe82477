/**
 * Authentication and TLS through the real app: bearer tokens and basic auth (scrypt hashes)
 * bound to tenants or admin, health without auth, 401/403, reload of the credentials file
 * without restart, secrets absent from status/config, errors and logs; TLS listener with
 * client certificates mapped to tenants by CN, certificate reload.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import type { Logger } from '../../src/model/logger.js';
import { hashSecret } from '../../src/tenancy/secrets.js';
import { getAs, remoteWrite, waitFor, writeBody } from './helpers.js';

const FAST = { N: 1024, r: 8, p: 1 };
let dir: string;
let app: App;
let webFile: string;
const logs: string[] = [];
const logger: Logger = {
  debug: (m, f) => void logs.push(m + JSON.stringify(f ?? {})),
  info: (m, f) => void logs.push(m + JSON.stringify(f ?? {})),
  warn: (m, f) => void logs.push(m + JSON.stringify(f ?? {})),
  error: (m, f) => void logs.push(m + JSON.stringify(f ?? {})),
  with: () => logger,
} as Logger;
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

async function webConfig(extraToken?: string): Promise<string> {
  const lines = [
    'credentials:',
    `  - {name: a-writer, tenant: team-a, bearer_token_hash: "${await hashSecret('token-a-SECRET', FAST)}"}`,
    `  - {name: b-writer, tenant: team-b, bearer_token_hash: "${await hashSecret('token-b-SECRET', FAST)}"}`,
    `  - {name: root, role: admin, basic_auth: {username: root, password_hash: "${await hashSecret('root-PASSWORD', FAST)}"}}`,
  ];
  if (extraToken) lines.push(`  - {name: c, tenant: team-c, bearer_token_hash: "${await hashSecret(extraToken, FAST)}"}`);
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-auth-'));
  webFile = path.join(dir, 'web.yml');
  await writeFile(webFile, await webConfig());
  await writeFile(path.join(dir, 'vigil.yml'), 'remote_write: [{url: "http://127.0.0.1:1/w", basic_auth: {username: u, password: REMOTE-PASS}}]\n');
  app = await startApp({ configFile: path.join(dir, 'vigil.yml'), webConfigFile: webFile, webConfigPollMs: 100, listenAddress: '127.0.0.1:0', storagePath: path.join(dir, 'data'), walFsync: 'never', registry: new Registry(), logger });
});
afterAll(async () => {
  await app?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('authentication', () => {
  it('health endpoints need no credentials, everything else does', async () => {
    expect((await getAs(app.url, '/-/healthy')).status).toBe(200);
    expect((await getAs(app.url, '/-/ready')).status).toBe(200);
    for (const p of ['/metrics', '/api/v1/labels', '/api/v1/status/config', '/api/v1/rules', '/']) {
      const r = await fetch(app.url + p);
      expect(r.status, p).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
    }
    expect((await remoteWrite(app.url, writeBody([{ labels: { __name__: 'x' }, points: [[Date.now(), 1]] }]))).status).toBe(401);
    expect((await getAs(app.url, '/api/v1/labels', undefined, bearer('wrong'))).status).toBe(401);
    expect((await getAs(app.url, '/api/v1/labels', undefined, basic('root', 'wrong'))).status).toBe(401);
  });

  it('a tenant credential reads and writes only its tenant; naming another is 403', async () => {
    const t = Date.now();
    expect((await remoteWrite(app.url, writeBody([{ labels: { __name__: 'a_only' }, points: [[t, 1]] }]), undefined, bearer('token-a-SECRET'))).status).toBe(204);
    expect((await remoteWrite(app.url, writeBody([{ labels: { __name__: 'b_only' }, points: [[t, 1]] }]), 'team-b', bearer('token-b-SECRET'))).status).toBe(204);
    expect((await getAs(app.url, '/api/v1/label/__name__/values', undefined, bearer('token-a-SECRET'))).text).toContain('a_only');
    expect((await getAs(app.url, '/api/v1/label/__name__/values', undefined, bearer('token-a-SECRET'))).text).not.toContain('b_only');
    expect((await getAs(app.url, '/api/v1/labels', 'team-b', bearer('token-a-SECRET'))).status).toBe(403);
    // not privileged: server-wide pages and reload are refused
    expect((await getAs(app.url, '/api/v1/status/config', undefined, bearer('token-a-SECRET'))).status).toBe(403);
    expect((await fetch(app.url + '/-/reload', { method: 'POST', headers: bearer('token-a-SECRET') })).status).toBe(403);
  });

  it('an admin may name any tenant and see server-wide pages; secrets are redacted', async () => {
    const r = await getAs(app.url, '/api/v1/label/__name__/values', 'team-b', basic('root', 'root-PASSWORD'));
    expect(r.text).toContain('b_only');
    const c = await getAs(app.url, '/api/v1/status/config', undefined, basic('root', 'root-PASSWORD'));
    expect(c.status).toBe(200);
    expect(c.text).not.toContain('REMOTE-PASS');
    expect((await fetch(app.url + '/-/reload', { method: 'POST', headers: basic('root', 'root-PASSWORD') })).status).toBe(200);
  });

  it('credentials file changes are picked up without restart', async () => {
    expect((await getAs(app.url, '/api/v1/labels', undefined, bearer('token-c-NEW'))).status).toBe(401);
    await writeFile(webFile, await webConfig('token-c-NEW'));
    expect(await waitFor(async () => (await getAs(app.url, '/api/v1/labels', undefined, bearer('token-c-NEW'))).status === 200, 5000)).toBe(true);
    // a broken file keeps the old credentials
    await writeFile(webFile, 'credentials: [{tenant: "../x", bearer_token_hash: "token-c-NEW"}]\n');
    await new Promise((r) => setTimeout(r, 400));
    expect((await getAs(app.url, '/api/v1/labels', undefined, bearer('token-c-NEW'))).status).toBe(200);
  });

  it('no secret appears in logs', () => {
    const all = logs.join('\n');
    for (const s of ['token-a-SECRET', 'token-b-SECRET', 'root-PASSWORD', 'token-c-NEW', 'REMOTE-PASS']) expect(all).not.toContain(s);
    expect(all).toMatch(/web config reload failed/);
  });
});

describe('TLS listener with client certificates mapped to tenants', () => {
  let tdir: string;
  let tapp: App;
  const pem = (f: string) => readFile(path.join(tdir, f));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tdir, stdio: 'pipe' });

  beforeAll(async () => {
    tdir = await mkdtemp(path.join(os.tmpdir(), 'vigil-tls-'));
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=test-ca', '-days', '2');
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '2');
    for (const cn of ['team-a', 'team-b']) {
      ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${cn}.key`, '-out', `${cn}.csr`, '-subj', `/CN=${cn}`);
      ssl('x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${cn}.crt`, '-days', '2');
    }
    await writeFile(
      path.join(tdir, 'web.yml'),
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n  client_cert_tenant_field: CN\n',
    );
    await writeFile(path.join(tdir, 'vigil.yml'), '{}\n');
    tapp = await startApp({ configFile: path.join(tdir, 'vigil.yml'), webConfigFile: path.join(tdir, 'web.yml'), webConfigPollMs: 100, listenAddress: '127.0.0.1:0', storagePath: path.join(tdir, 'data'), walFsync: 'never', registry: new Registry() });
  }, 30_000);
  afterAll(async () => {
    await tapp?.stop();
    await rm(tdir, { recursive: true, force: true });
  });

  const extraCa: Buffer[] = [];
  const req = async (cn: string, p: string, method = 'GET', body?: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; text: string; serverCert: string }> => {
    const ca = await pem('ca.crt');
    const server = await pem('server.crt');
    const [cert, key] = [await pem(`${cn}.crt`), await pem(`${cn}.key`)];
    return new Promise((resolve, reject) => {
      const r = https.request(tapp.url + p, { method, ca: [ca, server, ...extraCa], cert, key, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), serverCert: (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256 }));
      });
      r.on('error', reject);
      r.end(body);
    });
  };

  it('serves https, maps the client certificate CN to the tenant', async () => {
    expect(tapp.url.startsWith('https://')).toBe(true);
    const body = writeBody([{ labels: { __name__: 'cert_metric' }, points: [[Date.now(), 1]] }]);
    const w = await req('team-a', '/api/v1/write', 'POST', body, { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' });
    expect(w.status).toBe(204);
    expect((await req('team-a', '/api/v1/label/__name__/values')).text).toContain('cert_metric');
    expect((await req('team-b', '/api/v1/label/__name__/values')).text).not.toContain('cert_metric');
    expect((await req('team-b', '/api/v1/labels', 'GET', undefined, { 'X-Scope-OrgID': 'team-a' })).status).toBe(403);
  });

  it('reloads the server certificate when the files change', async () => {
    const before = (await req('team-a', '/-/healthy')).serverCert;
    extraCa.push(await pem('server.crt'));
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '3');
    expect(await waitFor(async () => (await req('team-a', '/-/healthy')).serverCert !== before, 5000)).toBe(true);
  });
});
