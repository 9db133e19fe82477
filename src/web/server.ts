/**
 * The HTTP server: Prometheus-compatible API under `/api/v1`, `/metrics`, the lifecycle
 * endpoints (`/-/healthy`, `/-/ready`, `POST /-/reload`) and the remote-write receiver on
 * `POST /api/v1/write` (raw stream, no body parser: see PITFALLS on express and snappy).
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import express, { type Express } from 'express';
import { nopLogger } from '../model/logger.js';
import { ApiError, createApiRouter, sendError, tenantOf, toApiError } from './api.js';
import { parseListenAddress } from './listen-address.js';
import type { ApiBackend, WebOptions } from './types.js';

/** Paths answered without authentication, tenant or concurrency limits. */
const OPEN_PATHS = new Set(['/-/healthy', '/-/ready']);

export { parseListenAddress, type ListenAddress } from './listen-address.js';

/** Creates the express application. Not ready (503 on `/-/ready` and storage endpoints) until `setBackend`. */
export function createWebApp(opts: WebOptions): { app: Express; setBackend(b: ApiBackend): void; isReady(): boolean } {
  let backend: ApiBackend | undefined;
  const log = opts.logger ?? nopLogger;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Overload: a bounded number of requests in flight, 503 + Retry-After beyond (Prometheus retries 5xx).
  const maxConcurrent = opts.serverLimits?.maxConcurrentRequests ?? 512;
  let inflight = 0;
  app.use((req, res, next) => {
    if (OPEN_PATHS.has(req.path)) return next();
    if (inflight >= maxConcurrent) {
      res.setHeader('Retry-After', '1');
      res.setHeader('Connection', 'close');
      res.status(503).type('text/plain').send(`too many concurrent requests (limit ${maxConcurrent})\n`);
      req.resume();
      return;
    }
    inflight++;
    let done = false;
    const end = (): void => {
      if (!done) {
        done = true;
        inflight--;
      }
    };
    res.on('finish', end);
    res.on('close', end);
    next();
  });

  // Authentication and tenant: every path but health answers 401/403/400 before reading a body.
  const tenancy = opts.tenancy;
  if (tenancy) {
    app.use(async (req, res, next) => {
      if (OPEN_PATHS.has(req.path)) return next();
      let r;
      try {
        r = await tenancy.resolve(req);
      } catch (e) {
        log.error('tenant resolution failed', { err: (e as Error).message });
        r = { status: 500, message: 'internal error' };
      }
      if ('status' in r) {
        for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
        req.resume();
        if (req.path.startsWith('/api/') && req.path !== '/api/v1/write') res.status(r.status).json({ status: 'error', errorType: r.status === 400 ? 'bad_data' : 'unauthorized', error: r.message });
        else res.status(r.status).type('text/plain').send(`${r.message}\n`);
        return;
      }
      res.locals.tenant = r;
      next();
    });
  }

  // Remote-write: raw stream, handled before anything that could touch the body.
  app.post('/api/v1/write', async (req, res) => {
    if (!backend) {
      res.status(503).type('text/plain').send('vigil is starting up (WAL replay in progress)\n');
      return;
    }
    let h;
    try {
      h = await opts.remoteWrite?.(tenantOf(res));
    } catch (e) {
      const ae = toApiError(e);
      if (ae.status === 429) res.setHeader('Retry-After', '30');
      if (ae.status >= 500) log.error('remote-write: tenant storage unavailable', { err: ae.message });
      res.status(ae.status).type('text/plain').send(`remote write: ${ae.status >= 500 ? 'storage unavailable' : ae.message}\n`);
      req.resume();
      return;
    }
    if (!h) {
      res.status(404).type('text/plain').send('remote write receiver is disabled (remote_write_receiver.enabled: false)\n');
      return;
    }
    try {
      await h(req, res);
    } catch (e) {
      log.error('remote-write handler failed', { err: e });
      if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
    }
  });

  app.use('/api/v1', createApiRouter(opts, () => backend));
  app.use('/api', (req, res) => sendError(res, new ApiError(`unknown API endpoint: ${req.method} /api${req.path}`, 'not_found', 404)));

  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('Vigil is Healthy.\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (backend) res.type('text/plain').send('Vigil is Ready.\n');
    else res.status(503).type('text/plain').send('Service Unavailable\n');
  });
  app.post('/-/reload', async (_req, res) => {
    if (!tenantOf(res).privileged) {
      res.status(403).type('text/plain').send('forbidden: reload needs an admin credential\n');
      return;
    }
    if (!opts.reload) {
      res.status(404).type('text/plain').send('reload is not available\n');
      return;
    }
    try {
      await opts.reload();
      res.type('text/plain').send('');
    } catch (e) {
      res.status(500).type('text/plain').send(`failed to reload config: ${(e as Error).message}\n`);
    }
  });
  app.get('/metrics', async (_req, res) => {
    try {
      if (opts.metricsFor) {
        const body = await opts.metricsFor(tenantOf(res));
        res.type(opts.registry.contentType).send(body);
        return;
      }
      let text = await opts.registry.metrics();
      if (opts.extraExposition) {
        const extra = await opts.extraExposition();
        if (extra !== '') text = text.endsWith('\n') || text === '' ? text + extra : `${text}\n${extra}`;
      }
      res.type(opts.registry.contentType).send(text);
    } catch (e) {
      log.error('/metrics failed', { err: e });
      res.status(500).type('text/plain').send(`error gathering metrics: ${(e as Error).message}\n`);
    }
  });
  app.get('/', (_req, res) => {
    res.type('text/plain').send('vigil: Prometheus-compatible API at /api/v1, metrics at /metrics\n');
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('404 page not found\n');
  });
  // Last-resort error handler (express passes sync throws and rejected promises here).
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const ae = toApiError(err);
    log.error('HTTP handler failed', { err: ae.message });
    sendError(res, ae);
  });
  return { app, setBackend: (b) => (backend = b), isReady: () => backend !== undefined };
}

/** A running web server. */
export interface WebServer {
  /** Base URL a local client can use (`http://127.0.0.1:PORT` when listening on all interfaces). */
  readonly url: string;
  readonly port: number;
  /** Marks the server ready and enables storage-backed endpoints. */
  setBackend(b: ApiBackend): void;
  isReady(): boolean;
  /** Stops accepting, waits for in-flight requests up to `graceMs` (default 5000), then drops connections. */
  close(graceMs?: number): Promise<void>;
  /** Re-reads the TLS certificate/key (new connections use them); no-op without TLS. */
  reloadTls(): void;
}

/** Starts the server on `listenAddress`. */
export async function startWebServer(opts: WebOptions & { readonly listenAddress: string }): Promise<WebServer> {
  const addr = parseListenAddress(opts.listenAddress);
  const { app, setBackend, isReady } = createWebApp(opts);
  const lim = opts.serverLimits ?? {};
  const common = {
    requestTimeout: lim.requestTimeoutMs ?? 120_000,
    headersTimeout: lim.headersTimeoutMs ?? 20_000,
    maxHeaderSize: lim.maxHeaderBytes ?? 16 * 1024,
    keepAliveTimeout: lim.keepAliveTimeoutMs ?? 65_000,
    connectionsCheckingInterval: 1000,
  };
  const server: http.Server = opts.tls ? https.createServer({ ...common, ...opts.tls.options() }, app) : http.createServer(common, app);
  server.maxHeadersCount = lim.maxHeadersCount ?? 100;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(addr.port, addr.host);
  try {
    await once(server, 'listening'); // rejects on 'error'
  } catch (e) {
    throw new Error(`cannot listen on ${opts.listenAddress}: ${(e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : (e as Error).message}`, { cause: e });
  }
  const port = (server.address() as AddressInfo).port;
  const host = addr.host === undefined || addr.host === '0.0.0.0' || addr.host === '::' ? '127.0.0.1' : addr.host;
  const url = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    setBackend,
    isReady,
    reloadTls() {
      if (opts.tls) (server as https.Server).setSecureContext(opts.tls.options());
    },
    close(graceMs = 5000) {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const t = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, graceMs);
        t.unref();
      });
      return closing;
    },
  };
}
