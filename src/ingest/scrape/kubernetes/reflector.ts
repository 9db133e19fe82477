/**
 * List + watch of one Kubernetes resource collection, kept in a local store (what client-go
 * calls a reflector): a paginated list gives the objects and a resourceVersion; a watch from that
 * version (`allowWatchBookmarks=true`, server-side timeout) applies ADDED/MODIFIED/DELETED and
 * BOOKMARK events; a watch that ends normally is re-opened from the last version; `410 Gone`
 * (expired version) relists at once; other failures back off exponentially with jitter.
 * Never throws out of its loop: failures are logged, counted and retried.
 */
import { nopLogger, type Logger } from '../../../model/logger.js';
import { getJson, KubeApiError, watchStream } from './client.js';
import type { ApiConnection } from './connection.js';
import type { KubernetesSDMetrics } from './metrics.js';
import { isRecord, objectKey, records, resourceVersionOf, str, type WatchEvent } from './objects.js';

/** Backoff between failed attempts. */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Default backoff: 1s doubling to 30s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/** Options of {@link Reflector}. */
export interface ReflectorOptions {
  readonly conn: ApiConnection;
  /** Collection path, e.g. `/api/v1/pods` or `/api/v1/namespaces/default/pods`. */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  /** Called after the store changed (relist or event). */
  readonly onChange: () => void;
  /** `role` label of the metrics. */
  readonly role: string;
  readonly metrics?: KubernetesSDMetrics;
  readonly logger?: Logger;
  readonly backoff?: BackoffOptions;
  /** Server-side watch timeout; randomised in [t, 2t) like client-go. Default 300. */
  readonly watchTimeoutSeconds?: number;
  /** `limit` of list pages. Default 500. */
  readonly pageSize?: number;
  readonly random?: () => number;
}

/** Resolves after `ms`, or early when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A list+watch loop over one collection with its object store (key `namespace/name`). */
export class Reflector {
  /** Current objects by `namespace/name`. */
  readonly store = new Map<string, Record<string, unknown>>();
  private rv = '';
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly logger: Logger;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;

  constructor(private readonly opts: ReflectorOptions) {
    this.logger = (opts.logger ?? nopLogger).with({ path: opts.path });
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string {
    return this.rv;
  }

  /** True once the first list succeeded. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.running ??= this.run();
  }

  /** Resolves true once the first list has been applied, false after `timeoutMs` or on stop. */
  waitSynced(timeoutMs: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.synced), timeoutMs);
      t.unref();
      this.syncWaiters.push(() => {
        clearTimeout(t);
        resolve(this.synced);
      });
    });
  }

  /** Stops the loop and waits for it. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const w of this.syncWaiters.splice(0)) w();
    await this.running;
  }

  private query(params: Record<string, string | undefined>): string {
    const q = new URLSearchParams();
    if (this.opts.fieldSelector) q.set('fieldSelector', this.opts.fieldSelector);
    if (this.opts.labelSelector) q.set('labelSelector', this.opts.labelSelector);
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
    return `${this.opts.path}?${q.toString()}`;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let needList = true;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.list(signal);
          needList = false;
        }
        const gone = await this.watch(signal);
        failures = 0;
        if (gone) {
          this.opts.metrics?.relists.inc({ role: this.opts.role });
          this.logger.debug('watch resourceVersion expired, relisting', { rv: this.rv });
          needList = true;
        }
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.opts.metrics?.failures.inc({ role: this.opts.role });
        const status = err instanceof KubeApiError ? err.status : 0;
        // An expired continue token or a version the server no longer has: start over.
        if (status === 410) needList = true;
        // Something is wrong with what we know: relist after the backoff (client-go does too).
        if (status !== 0) needList = true;
        const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(failures - 1, 20));
        const delay = Math.round(base * (0.5 + this.random() * 0.5));
        this.logger.warn('kubernetes list/watch failed; retrying', { err, status, retryInMs: delay });
        await sleep(delay, signal);
      }
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    const next = new Map<string, Record<string, unknown>>();
    let cont = '';
    let rv = '';
    for (let page = 0; page < 100_000; page++) {
      const doc = await getJson(this.opts.conn, this.query({ limit: String(this.opts.pageSize ?? 500), continue: cont }), signal);
      for (const item of records(doc['items'])) next.set(objectKey(item), item);
      rv = resourceVersionOf(doc);
      const md = isRecord(doc['metadata']) ? doc['metadata'] : {};
      cont = str(md['continue']);
      if (cont === '') break;
    }
    this.store.clear();
    for (const [k, v] of next) this.store.set(k, v);
    this.rv = rv;
    this.opts.metrics?.events.inc({ role: this.opts.role, event: 'list' });
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    this.notify();
  }

  /** One watch; resolves true when the server said the version is gone (relist needed). */
  private async watch(signal: AbortSignal): Promise<boolean> {
    const base = this.opts.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(base * (1 + this.random()));
    let gone = false;
    let failure: KubeApiError | undefined;
    const onEvent = (e: WatchEvent): void | 'stop' => {
      if (gone || failure) return 'stop';
      this.opts.metrics?.events.inc({ role: this.opts.role, event: e.type.toLowerCase() });
      switch (e.type) {
        case 'ADDED':
        case 'MODIFIED':
          this.store.set(objectKey(e.object), e.object);
          this.rv = resourceVersionOf(e.object) || this.rv;
          this.notify();
          return;
        case 'DELETED':
          this.store.delete(objectKey(e.object));
          this.rv = resourceVersionOf(e.object) || this.rv;
          this.notify();
          return;
        case 'BOOKMARK':
          this.rv = resourceVersionOf(e.object) || this.rv;
          return;
        case 'ERROR': {
          const code = typeof e.object['code'] === 'number' ? e.object['code'] : 0;
          if (code === 410) gone = true;
          else failure = new KubeApiError(`watch error event: ${str(e.object['message']) || str(e.object['reason']) || 'unknown'}`, code);
          return 'stop';
        }
      }
    };
    try {
      await watchStream(this.opts.conn, this.query({ watch: 'true', resourceVersion: this.rv, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) }), signal, onEvent, {
        idleTimeoutMs: (timeoutSeconds + 30) * 1000,
      });
    } catch (err) {
      if (!gone && !failure) {
        if (err instanceof KubeApiError && err.status === 410) return true;
        throw err;
      }
    }
    if (failure) throw failure;
    return gone;
  }

  private notify(): void {
    try {
      this.opts.onChange();
    } catch (err) {
      this.logger.error('kubernetes discovery change handler failed', { err });
    }
  }
}
