import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationHeader, createPoster, HttpClientError, parseRetryAfter, redactURL } from '../../src/notify/http-client.js';

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: string;
}

function handler(seen: Seen[]): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      if (req.url === '/big') return void res.end('x'.repeat(200_000));
      res.writeHead(req.url === '/fail' ? 503 : 200, { 'Retry-After': '7' });
      res.end('ok');
    });
  };
}

function listen(srv: http.Server): Promise<number> {
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
}

describe('createPoster over node:http', () => {
  const seen: Seen[] = [];
  const srv = http.createServer(handler(seen));
  let base = '';
  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(srv)}`;
  });
  afterAll(() => {
    srv.closeAllConnections();
    srv.close();
  });

  it('POSTs the body with headers and Authorization, returns status and lower-case headers', async () => {
    const post = createPoster({ basicAuth: { username: 'user', password: 'p:w' } });
    const res = await post({ url: `${base}/fail`, headers: { 'Content-Type': 'application/json', 'X-A': '1' }, body: '[1]', timeoutMs: 2000 });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body).toBe('ok');
    const last = seen.at(-1)!;
    expect(last.body).toBe('[1]');
    expect(last.headers['x-a']).toBe('1');
    expect(last.headers['user-agent']).toMatch(/^vigil\//);
    expect(last.headers.authorization).toBe(`Basic ${Buffer.from('user:p:w').toString('base64')}`);
  });

  it('keeps at most maxResponseBytes of the body', async () => {
    const post = createPoster({}, { maxResponseBytes: 1000 });
    const res = await post({ url: `${base}/big`, headers: {}, body: new Uint8Array([1, 2]), timeoutMs: 2000 });
    expect(res.body.length).toBe(1000);
  });

  it('rejects with HttpClientError on timeout and on connection refused', async () => {
    const post = createPoster({});
    await expect(post({ url: `${base}/slow`, headers: {}, body: '', timeoutMs: 100 })).rejects.toThrow(/timeout after 100 ms/);
    const closed = http.createServer();
    const port = await listen(closed);
    closed.close();
    await expect(post({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '', timeoutMs: 1000 })).rejects.toBeInstanceOf(HttpClientError);
  });

  it('fails clearly when a secret file is missing', async () => {
    await expect(authorizationHeader({ bearerTokenFile: '/nonexistent/token' })).rejects.toThrow(/cannot read bearer token from \/nonexistent\/token/);
  });
});

describe('createPoster over node:https with TLS settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
  const seen: Seen[] = [];
  let srv: https.Server;
  let port = 0;
  beforeAll(async () => {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=am.test', '-addext', 'subjectAltName=DNS:am.test'],
      { stdio: 'ignore' },
    );
    srv = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler(seen));
    port = await listen(srv);
  });
  afterAll(() => {
    srv.closeAllConnections();
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server with ca_file + server_name', async () => {
    const post = createPoster({ tls: { caFile: join(dir, 'cert.pem'), serverName: 'am.test' } });
    const res = await post({ url: `https://127.0.0.1:${port}/`, headers: {}, body: 'x', timeoutMs: 3000 });
    expect(res.status).toBe(200);
  });

  it('rejects an unknown CA unless insecure_skip_verify', async () => {
    await expect(createPoster({})({ url: `https://127.0.0.1:${port}/`, headers: {}, body: 'x', timeoutMs: 3000 })).rejects.toThrow(/certificate/);
    const res = await createPoster({ tls: { insecureSkipVerify: true } })({ url: `https://127.0.0.1:${port}/`, headers: {}, body: 'x', timeoutMs: 3000 });
    expect(res.status).toBe(200);
  });

  it('picks up a rotated CA file (the agent is rebuilt when a TLS file changes)', async () => {
    const ca = join(dir, 'rotating-ca.pem');
    writeFileSync(ca, readFileSync(join(dir, 'cert.pem')));
    const post = createPoster({ tls: { caFile: ca, serverName: 'am.test' } });
    expect((await post({ url: `https://127.0.0.1:${port}/`, headers: {}, body: 'x', timeoutMs: 3000 })).status).toBe(200);
    // A second server with a new self-signed certificate, and the CA file rewritten to it.
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key2.pem'), '-out', join(dir, 'cert2.pem'), '-days', '1', '-subj', '/CN=am.test', '-addext', 'subjectAltName=DNS:am.test'],
      { stdio: 'ignore' },
    );
    const srv2 = https.createServer({ key: readFileSync(join(dir, 'key2.pem')), cert: readFileSync(join(dir, 'cert2.pem')) }, handler([]));
    const port2 = await listen(srv2);
    try {
      // Before the rotation the new server is not trusted…
      await expect(post({ url: `https://127.0.0.1:${port2}/`, headers: {}, body: 'x', timeoutMs: 3000 })).rejects.toThrow(/certificate|self.signed/);
      writeFileSync(ca, readFileSync(join(dir, 'cert2.pem')));
      utimesSync(ca, new Date(), new Date(Date.now() + 5000));
      // …after it, it is, and the old one no longer is.
      expect((await post({ url: `https://127.0.0.1:${port2}/`, headers: {}, body: 'x', timeoutMs: 3000 })).status).toBe(200);
      await expect(post({ url: `https://127.0.0.1:${port}/`, headers: {}, body: 'x', timeoutMs: 3000 })).rejects.toThrow(/certificate|self.signed/);
    } finally {
      srv2.closeAllConnections();
      srv2.close();
    }
  });

  it('bearer_token_file is re-read for every request', async () => {
    const f = join(dir, 'token');
    writeFileSync(f, 't1\n');
    const post = createPoster({ bearerTokenFile: f, tls: { insecureSkipVerify: true } });
    await post({ url: `https://127.0.0.1:${port}/`, headers: {}, body: '', timeoutMs: 3000 });
    writeFileSync(f, 't2');
    await post({ url: `https://127.0.0.1:${port}/`, headers: {}, body: '', timeoutMs: 3000 });
    expect(seen.slice(-2).map((s) => s.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });
});

describe('helpers', () => {
  it('parseRetryAfter reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });

  it('redactURL removes credentials and query', () => {
    expect(redactURL('https://u:secret@h:1/p?token=x')).toBe('https://h:1/p');
    expect(redactURL('::')).toBe('<invalid url>');
  });
});
