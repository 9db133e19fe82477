/**
 * Hostile input at the HTTP layer: oversized headers (431), too many concurrent requests
 * (503 + Retry-After, health still answered), slow-loris connections closed by the headers
 * timeout, oversized form bodies refused before reading (413).
 */
import net from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import type { WebOptions } from '../../src/web/types.js';
import { FakeEngine, FakeStorage, fakeFormatValue, fakeParseMatchers } from './fakes.js';

const waiting: (() => void)[] = [];
const release = (): void => waiting.shift()?.();
let srv: WebServer;

beforeAll(async () => {
  const opts: WebOptions & { listenAddress: string } = {
    listenAddress: '127.0.0.1:0',
    registry: new Registry(),
    parseMatchers: fakeParseMatchers,
    formatValue: fakeFormatValue,
    queryTimeoutMs: 2000,
    buildInfo: { version: '0', revision: '', branch: '', buildUser: '', buildDate: '', goVersion: '' },
    flags: {},
    configYaml: () => '',
    runtimeInfo: () => ({}),
    maxFormBytes: 1024,
    serverLimits: { maxConcurrentRequests: 2, maxHeaderBytes: 4096, headersTimeoutMs: 500, requestTimeoutMs: 1000 },
    // a slow endpoint to fill the concurrency slots
    remoteWrite: () => async (_req, res) => {
      await new Promise<void>((r) => waiting.push(r));
      res.statusCode = 204;
      res.end();
    },
  };
  srv = await startWebServer(opts);
  srv.setBackend({ storage: new FakeStorage([]), engine: new FakeEngine() });
});
afterAll(async () => {
  while (waiting.length) release();
  await srv.close(0);
});

describe('hostile input', () => {
  it('refuses oversized headers with 431', async () => {
    const r = await fetch(srv.url + '/api/v1/labels', { headers: { 'x-big': 'a'.repeat(8000) } });
    expect(r.status).toBe(431);
  });

  it('answers 503 + Retry-After when too many requests are in flight; health stays up', async () => {
    const slow = [1, 2].map(() => fetch(srv.url + '/api/v1/write', { method: 'POST', body: 'x' }));
    await new Promise((r) => setTimeout(r, 100));
    const r = await fetch(srv.url + '/api/v1/labels');
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect((await fetch(srv.url + '/-/healthy')).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      release();
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(slow);
    expect((await fetch(srv.url + '/api/v1/labels')).status).toBe(200);
  });

  it('closes slow-loris connections that never finish their headers', async () => {
    const { port } = new URL(srv.url);
    const sock = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n');
    const t0 = Date.now();
    const timer = setInterval(() => sock.write('X-Drip: 1\r\n'), 100);
    const reply = await new Promise<string>((resolve) => {
      let buf = '';
      sock.on('data', (d) => (buf += d.toString()));
      sock.on('close', () => resolve(buf));
    });
    clearInterval(timer);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(reply).toMatch(/^$|408/);
  });

  it('refuses form bodies over the limit before reading them', async () => {
    const r = await fetch(srv.url + '/api/v1/query', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=' + 'a'.repeat(5000) });
    expect(r.status).toBe(413);
  });
});
