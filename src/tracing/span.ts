/**
 * The minimal tracing contract the rule engine and the ingest paths depend on: a span factory
 * and a span, with no tie to jaeger-client. {@link VigilTracer}/{@link VigilSpan} (./tracer.ts)
 * satisfy it; a span passed back as `childOf` always comes from the same factory.
 */

/** Tag values spans accept. */
export type SpanTagValue = string | number | boolean;

/** A span as instrumented code sees it. Methods never throw. */
export interface TraceSpan {
  setTag(key: string, value: SpanTagValue): TraceSpan;
  /** Marks the span failed (error tag plus the message). */
  fail(err: unknown): unknown;
  finish(): void;
}

/** Options of {@link SpanFactory.startSpan}. */
export interface TraceSpanOptions {
  readonly childOf?: TraceSpan;
  readonly tags?: Readonly<Record<string, SpanTagValue>>;
}

/** Creates spans; `enabled` false means spans record nothing (callers may skip work). */
export interface SpanFactory {
  readonly enabled: boolean;
  startSpan(name: string, opts?: TraceSpanOptions): TraceSpan;
}
