/**
 * Scrapes over HTTPS with `tls_config` and auth, against a local target (127.0.0.1) whose
 * certificates come from a throwaway CA generated with `openssl` in the test: CA verification,
 * server_name (the certificate only names `target.example`), client certificates (the target
 * requires one), insecure_skip_verify, bearer and basic auth.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClientConfig } from '../../../src/config/types.js';
import { fetchScrapeBody, ScrapeError } from '../../../src/ingest/scrape/scrape-http.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
let dir: string;
let server: https.Server;
let url: string;
const seen: { auth?: string; clientCN?: string }[] = [];
const f = (n: string): string => path.join(dir, n);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
}

/** Key + certificate signed by the test CA. */
function issue(name: string, cn: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  execFileSync('sh', ['-c', `printf '%s\\n' "${ext}" > ${name}.ext`], { cwd: dir });
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

beforeAll(async () => {
  if (!hasOpenssl) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-scrape-tls-'));
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=vigil-test-ca');
  issue('server', 'target.example', 'subjectAltName=DNS:target.example');
  issue('client', 'vigil-scraper', 'extendedKeyUsage=clientAuth');
  await writeFile(f('token'), 'file-TOKEN\n');
  await writeFile(f('password'), 'pw-FROM-FILE\n');
  await writeFile(f('huge-ca.crt'), Buffer.alloc((1 << 20) + 1, 0x41));
  server = https.createServer(
    { key: readFileSync(f('server.key')), cert: readFileSync(f('server.crt')), ca: readFileSync(f('ca.crt')), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      seen.push({ ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), ...(peer?.subject?.CN ? { clientCN: String(peer.subject.CN) } : {}) });
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end('# TYPE tls_up gauge\ntls_up 1\n');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}, 60_000);

afterAll(async () => {
  if (!hasOpenssl) return;
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

const scrape = (http: HttpClientConfig) => fetchScrapeBody(url, { timeoutMs: 3000, bodySizeLimit: 1 << 20, http });
/** The client certificate the target requires. */
const cc = () => ({ certFile: f('client.crt'), keyFile: f('client.key') });

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(ScrapeError);
    return (e as ScrapeError).reason;
  }
}

describe.skipIf(!hasOpenssl)('scrape over HTTPS with tls_config', () => {
  it('verifies the target with ca_file + server_name, sends the client certificate and bearer token', async () => {
    seen.length = 0;
    const r = await scrape({ bearerToken: 'inline-TOKEN', tls: { caFile: f('ca.crt'), serverName: 'target.example', ...cc() } });
    expect(r.body).toContain('tls_up 1');
    expect(seen).toEqual([{ auth: 'Bearer inline-TOKEN', clientCN: 'vigil-scraper' }]);
  });

  it('reads bearer_token_file and basic_auth password_file', async () => {
    seen.length = 0;
    await scrape({ bearerTokenFile: f('token'), tls: { caFile: f('ca.crt'), serverName: 'target.example', ...cc() } });
    await scrape({ basicAuth: { username: 'u', passwordFile: f('password') }, tls: { caFile: f('ca.crt'), serverName: 'target.example', ...cc() } });
    expect(seen.map((s) => s.auth)).toEqual(['Bearer file-TOKEN', `Basic ${Buffer.from('u:pw-FROM-FILE').toString('base64')}`]);
  });

  it('fails without the CA, with a wrong server name, or without a client certificate', async () => {
    expect(await reason(scrape({ tls: { serverName: 'target.example', ...cc() } }))).toBe('connection'); // unknown CA
    expect(await reason(scrape({ tls: { caFile: f('ca.crt'), ...cc() } }))).toBe('connection'); // cert names target.example, not 127.0.0.1
    expect(await reason(scrape({ tls: { caFile: f('ca.crt'), serverName: 'other.example', ...cc() } }))).toBe('connection');
    expect(await reason(scrape({ tls: { caFile: f('ca.crt'), serverName: 'target.example' } }))).toBe('connection'); // target requires a client cert
  });

  it('insecure_skip_verify accepts the unverified target', async () => {
    expect(await reason(scrape({ tls: { insecureSkipVerify: true, ...cc() } }))).toBe('ok');
  });

  it('refuses oversized or missing TLS files with a clear message', async () => {
    await expect(scrape({ tls: { caFile: f('huge-ca.crt') } })).rejects.toThrow(/CA file .* is too large/);
    await expect(scrape({ tls: { caFile: f('missing.crt') } })).rejects.toThrow(/cannot read CA file/);
    expect(await reason(scrape({ tls: { caFile: f('missing.crt') } }))).toBe('internal');
  });
});
