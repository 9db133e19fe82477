/** Self-tracing with jaeger-client: config parsing, tracer factory, span helpers. */
export { parseTracingConfig, TracingConfigError, type SamplerType, type TracingConfig, type TracingReporter } from './config.js';
export { createTracer, noopTracer, withSpan, TRACE_HEADER, type CreateTracerOptions, type StartSpanOptions, type TagValue, type VigilSpan, type VigilTracer } from './tracer.js';
