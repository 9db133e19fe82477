/** Self-tracing with jaeger-client: config parsing, tracer factory, span helpers. */
export { parseTracingConfig, TracingConfigError, type SamplerType, type TracingConfig, type TracingReporter } from './config.js';
export { createTracer, noopTracer, withSpan, TRACE_HEADER, type CreateTracerOptions, type StartSpanOptions, type TagValue, type VigilSpan, type VigilTracer } from './tracer.js';
export type { SpanFactory, SpanTagValue, TraceSpan, TraceSpanOptions } from './span.js';
export { exprTag, ruleContext, startGroupSpan, tracedQuery } from './rules.js';
