/**
 * A fake Kubernetes API server for discovery tests: `/api/v1/pods`, `/api/v1/namespaces/<ns>/pods`
 * and `/api/v1/nodes` with list (limit/continue), field selectors (`spec.nodeName=`,
 * `metadata.name=`, `metadata.namespace=`), equality label selectors, and watch
 * (`watch=true&resourceVersion=...&allowWatchBookmarks=true`, chunked JSON lines: replay of
 * history after the version, live ADDED/MODIFIED/DELETED, BOOKMARK, ERROR 410 for compacted versions).
 * Bearer-token check. HTTP or HTTPS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

type Obj = Record<string, any>;
type Kind = 'pods' | 'nodes';

interface Watcher {
  res: http.ServerResponse;
  kind: Kind;
  namespace?: string;
  match: (o: Obj) => boolean;
}

/** A recorded request. */
export interface Req {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly auth: string | undefined;
}

/** Self-signed cert + key for 127.0.0.1 (EC P-256, made with openssl). */
export function selfSignedCert(cn = '127.0.0.1'): { cert: Buffer; key: Buffer; certFile: string; keyFile: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-k8s-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=IP:${cn}`], {
    stdio: 'ignore',
  });
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile, dir };
}

function fieldMatch(sel: string | null, o: Obj): boolean {
  if (!sel) return true;
  return sel.split(',').every((term) => {
    const neg = term.includes('!=');
    const [k, v] = term.split(/!=|==|=/) as [string, string];
    const val = k === 'spec.nodeName' ? o.spec?.nodeName : k === 'metadata.name' ? o.metadata?.name : k === 'metadata.namespace' ? o.metadata?.namespace : undefined;
    return neg ? val !== v : val === v;
  });
}

function labelMatch(sel: string | null, o: Obj): boolean {
  if (!sel) return true;
  return sel.split(',').every((term) => {
    const neg = term.includes('!=');
    const [k, v] = term.split(/!=|==|=/) as [string, string];
    const val = o.metadata?.labels?.[k];
    return neg ? val !== v : val === v;
  });
}

/** The fake API server. */
export class FakeApiServer {
  readonly objects: Record<Kind, Map<string, Obj>> = { pods: new Map(), nodes: new Map() };
  readonly history: { rv: number; kind: Kind; type: string; obj: Obj }[] = [];
  readonly requests: Req[] = [];
  readonly watchers = new Set<Watcher>();
  rv = 1000;
  /** Watches from a version below this get ERROR 410. */
  compactedBelow = 0;
  /** Accepted bearer tokens (empty = no auth check). */
  tokens = new Set<string>();
  /** Answer the next N list requests with HTTP 500. */
  failLists = 0;
  private server!: http.Server;
  port = 0;

  constructor(private readonly tls?: { cert: Buffer; key: Buffer }) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = this.tls ? https.createServer({ cert: this.tls.cert, key: this.tls.key }, handler) : http.createServer(handler);
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Requests to a path (list or watch). */
  watchRequests(): Req[] {
    return this.requests.filter((r) => r.query.get('watch') === 'true');
  }
  listRequests(): Req[] {
    return this.requests.filter((r) => r.query.get('watch') !== 'true');
  }

  private key(o: Obj): string {
    return `${o.metadata?.namespace ?? ''}/${o.metadata.name}`;
  }

  /** Creates or replaces an object (ADDED/MODIFIED event). */
  upsert(kind: Kind, obj: Obj): Obj {
    const o = structuredClone(obj);
    this.rv++;
    o.metadata.resourceVersion = String(this.rv);
    const type = this.objects[kind].has(this.key(o)) ? 'MODIFIED' : 'ADDED';
    this.objects[kind].set(this.key(o), o);
    this.emit(kind, type, o);
    return o;
  }

  /** Deletes an object (DELETED event). */
  remove(kind: Kind, namespace: string, name: string): void {
    const k = `${namespace}/${name}`;
    const o = this.objects[kind].get(k);
    if (!o) throw new Error(`no ${kind} ${k}`);
    this.objects[kind].delete(k);
    this.rv++;
    const d = structuredClone(o);
    d.metadata.resourceVersion = String(this.rv);
    this.emit(kind, 'DELETED', d);
  }

  private emit(kind: Kind, type: string, obj: Obj): void {
    this.history.push({ rv: this.rv, kind, type, obj });
    for (const w of this.watchers) if (w.kind === kind && w.match(obj)) w.res.write(JSON.stringify({ type, object: obj }) + '\n');
  }

  /** Sends a BOOKMARK with the current version to every open watch. */
  bookmark(): void {
    this.rv++;
    for (const w of this.watchers) {
      w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: w.kind === 'pods' ? 'Pod' : 'Node', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv), annotations: { 'k8s.io/initial-events-end': 'true' } } } }) + '\n');
    }
  }

  /** Forgets history: every open watch gets ERROR 410 and is closed; later watches from older versions get 410 too. */
  expireAll(): void {
    this.compactedBelow = this.rv + 1;
    for (const w of [...this.watchers]) {
      w.res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 1 (2)', reason: 'Expired', code: 410 } }) + '\n');
      this.watchers.delete(w);
    }
  }

  /** Ends every open watch normally (like the server-side timeout). */
  endWatches(): void {
    for (const w of [...this.watchers]) {
      w.res.end();
      this.watchers.delete(w);
    }
  }

  /** Kills every open watch connection (network failure). */
  dropWatches(): void {
    for (const w of [...this.watchers]) {
      w.res.socket?.destroy();
      this.watchers.delete(w);
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ path: u.pathname, query: u.searchParams, auth: req.headers.authorization });
    const status = (code: number, reason: string, message: string): void => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
    };
    if (this.tokens.size > 0) {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) return status(401, 'Unauthorized', 'Unauthorized');
    }
    const m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?(pods|nodes)$/.exec(u.pathname);
    if (!m) return status(404, 'NotFound', 'the server could not find the requested resource');
    const namespace = m[1];
    const kind = m[2] as Kind;
    const fs = u.searchParams.get('fieldSelector');
    const ls = u.searchParams.get('labelSelector');
    const match = (o: Obj): boolean => (namespace === undefined || o.metadata?.namespace === namespace) && fieldMatch(fs, o) && labelMatch(ls, o);
    if (u.searchParams.get('watch') === 'true') {
      const from = Number(u.searchParams.get('resourceVersion') ?? '0');
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      if (from < this.compactedBelow) {
        res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.compactedBelow})`, reason: 'Expired', code: 410 } }) + '\n');
        return;
      }
      for (const h of this.history) if (h.rv > from && h.kind === kind && match(h.obj)) res.write(JSON.stringify({ type: h.type, object: h.obj }) + '\n');
      const w: Watcher = { res, kind, match, ...(namespace ? { namespace } : {}) };
      this.watchers.add(w);
      req.on('close', () => this.watchers.delete(w));
      return;
    }
    if (this.failLists > 0) {
      this.failLists--;
      return status(500, 'InternalError', 'etcdserver: request timed out');
    }
    const all = [...this.objects[kind].values()].filter(match).sort((a, b) => (this.key(a) < this.key(b) ? -1 : 1));
    const limit = Number(u.searchParams.get('limit') ?? '0') || all.length;
    const offset = Number(u.searchParams.get('continue') ?? '0') || 0;
    const items = all.slice(offset, offset + limit);
    const more = offset + limit < all.length;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: kind === 'pods' ? 'PodList' : 'NodeList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv), ...(more ? { continue: String(offset + limit), remainingItemCount: all.length - offset - limit } : {}) },
        items,
      }),
    );
  }
}

/** Objects of the recorded fixtures. */
export function fixture(name: 'pods' | 'nodes'): Obj[] {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')).items;
}

/** Waits until `cond` holds (polling every 10 ms), failing after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
