/**
 * Self-tracing: a small tracer API over **jaeger-client** (OpenTracing), and a no-op tracer
 * when tracing is off (the default). Where vigil starts spans: rule group evaluation → rule →
 * query (`src/rules/group.ts` via ./rules.ts); remote-write request → decode / commit
 * (`src/ingest/remote-write/handler.ts`); notification (child of the rule span); correlation calls (whose span context goes out as the `uber-trace-id` header to Jaeger and
 * Elasticsearch, see {@link VigilTracer.inject}).
 *
 * jaeger-client is CommonJS without type declarations; it is loaded with `createRequire` and
 * the few members used are typed here.
 */
import { createRequire } from 'node:module';
import type { Logger } from '../model/logger.js';
import { nopLogger } from '../model/logger.js';
import type { TracingConfig } from './config.js';

/** Tag values spans accept. */
export type TagValue = string | number | boolean;

/** A span. Methods never throw. */
export interface VigilSpan {
  setTag(key: string, value: TagValue): VigilSpan;
  /** Structured log event on the span. */
  log(fields: Readonly<Record<string, TagValue>>): VigilSpan;
  /** Marks the span failed (`error=true` plus the message as a log event). */
  fail(err: unknown): VigilSpan;
  finish(): void;
  /** Hex trace id ('' for the no-op span). */
  traceId(): string;
  /** The tracer-specific span (jaeger-client `Span`), undefined for the no-op span. */
  readonly raw: unknown;
}

/** Options of {@link VigilTracer.startSpan}. */
export interface StartSpanOptions {
  readonly childOf?: VigilSpan;
  readonly tags?: Readonly<Record<string, TagValue>>;
}

/** A tracer: jaeger-backed or no-op. */
export interface VigilTracer {
  readonly enabled: boolean;
  startSpan(name: string, opts?: StartSpanOptions): VigilSpan;
  /**
   * Adds the span's context to `headers` (`uber-trace-id: trace:span:parent:flags`) and returns
   * them; a no-op span adds nothing.
   */
  inject(span: VigilSpan | undefined, headers?: Record<string, string>): Record<string, string>;
  /** Flushes buffered spans and closes the reporter. */
  close(): Promise<void>;
}

/** The header jaeger-client propagates span context in. */
export const TRACE_HEADER = 'uber-trace-id';

const noopSpan: VigilSpan = {
  setTag: () => noopSpan,
  log: () => noopSpan,
  fail: () => noopSpan,
  finish: () => {},
  traceId: () => '',
  raw: undefined,
};

/** A tracer that records nothing (tracing off). */
export const noopTracer: VigilTracer = {
  enabled: false,
  startSpan: () => noopSpan,
  inject: (_s, h = {}) => h,
  close: async () => {},
};

// --- the parts of jaeger-client this module uses ---------------------------------------------

interface JSpanContext {
  readonly traceIdStr?: string;
  toTraceId?(): string;
}
interface JSpan {
  setTag(k: string, v: unknown): unknown;
  log(f: Record<string, unknown>): unknown;
  finish(t?: number): void;
  context(): JSpanContext;
}
interface JTracer {
  startSpan(name: string, opts?: { childOf?: JSpanContext; tags?: Record<string, unknown> }): JSpan;
  inject(ctx: JSpanContext, format: string, carrier: Record<string, string>): void;
  close(cb?: () => void): void;
}
interface JaegerModule {
  initTracer(config: Record<string, unknown>, options: Record<string, unknown>): JTracer;
}

let jaegerModule: JaegerModule | undefined;

function loadJaeger(): JaegerModule {
  jaegerModule ??= createRequire(import.meta.url)('jaeger-client') as JaegerModule;
  return jaegerModule;
}

class JaegerSpan implements VigilSpan {
  constructor(readonly raw: JSpan) {}
  setTag(key: string, value: TagValue): VigilSpan {
    try {
      this.raw.setTag(key, value);
    } catch {
      /* never throw from tracing */
    }
    return this;
  }
  log(fields: Readonly<Record<string, TagValue>>): VigilSpan {
    try {
      this.raw.log({ ...fields });
    } catch {
      /* ignore */
    }
    return this;
  }
  fail(err: unknown): VigilSpan {
    this.setTag('error', true);
    return this.log({ event: 'error', message: err instanceof Error ? err.message : String(err) });
  }
  finish(): void {
    try {
      this.raw.finish();
    } catch {
      /* ignore */
    }
  }
  traceId(): string {
    const c = this.raw.context();
    return c.toTraceId?.() ?? c.traceIdStr ?? '';
  }
}

/** Options of {@link createTracer}. */
export interface CreateTracerOptions {
  readonly logger?: Logger;
  /**
   * A jaeger-client reporter to use instead of the configured agent/collector (tests:
   * `new InMemoryReporter()`).
   */
  readonly reporter?: unknown;
}

/**
 * Creates the tracer for `cfg`: {@link noopTracer} when undefined (tracing off), else a
 * jaeger-client tracer reporting to the agent (UDP) or collector (HTTP).
 */
export function createTracer(cfg: TracingConfig | undefined, opts: CreateTracerOptions = {}): VigilTracer {
  if (cfg === undefined) return noopTracer;
  const logger = (opts.logger ?? nopLogger).with({ component: 'tracing' });
  const reporter: Record<string, unknown> = { flushIntervalMs: cfg.flushInterval };
  switch (cfg.reporter.kind) {
    case 'agent':
      reporter.agentHost = cfg.reporter.host;
      reporter.agentPort = cfg.reporter.port;
      break;
    case 'collector':
      reporter.collectorEndpoint = cfg.reporter.endpoint;
      if (cfg.reporter.username !== undefined) reporter.username = cfg.reporter.username;
      if (cfg.reporter.password !== undefined) reporter.password = cfg.reporter.password;
      break;
  }
  const jt = loadJaeger().initTracer(
    { serviceName: cfg.serviceName, sampler: { type: cfg.sampler.type, param: cfg.sampler.param }, reporter },
    {
      tags: { ...cfg.tags },
      logger: { info: (m: string) => logger.debug(m), error: (m: string) => logger.warn(m) },
      ...(opts.reporter !== undefined ? { reporter: opts.reporter } : {}),
    },
  );
  let closed: Promise<void> | undefined;
  return {
    enabled: true,
    startSpan(name, o = {}) {
      try {
        const parent = o.childOf?.raw as JSpan | undefined;
        return new JaegerSpan(jt.startSpan(name, { ...(parent ? { childOf: parent.context() } : {}), ...(o.tags ? { tags: { ...o.tags } } : {}) }));
      } catch {
        return noopSpan;
      }
    },
    inject(span, headers = {}) {
      const raw = span?.raw as JSpan | undefined;
      if (raw === undefined) return headers;
      try {
        jt.inject(raw.context(), 'http_headers', headers);
      } catch {
        /* ignore */
      }
      return headers;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        try {
          jt.close(() => resolve());
        } catch {
          resolve();
        }
      });
      return closed;
    },
  };
}

/**
 * Runs `fn` inside a span named `name` (child of `parent` when given): the span is finished when
 * `fn` settles and marked failed when it throws/rejects (the error is rethrown).
 */
export async function withSpan<T>(
  tracer: VigilTracer,
  name: string,
  parent: VigilSpan | undefined,
  fn: (span: VigilSpan) => T | Promise<T>,
  tags?: Readonly<Record<string, TagValue>>,
): Promise<T> {
  const span = tracer.startSpan(name, { ...(parent ? { childOf: parent } : {}), ...(tags ? { tags } : {}) });
  try {
    return await fn(span);
  } catch (e) {
    span.fail(e);
    throw e;
  } finally {
    span.finish();
  }
}
