/**
 * Correlation of firing alerts with Elasticsearch logs, Jaeger traces and exemplars. The lead
 * wires a {@link Correlator} between the rule manager and the notifier; see `correlator.ts`.
 */
export { Correlator, type CorrelatorOptions } from './correlator.js';
export { buildAnnotations, buildSummary, MAX_TRACE_IDS, type CorrelationResult } from './annotations.js';
export {
  parseCorrelationConfig,
  redactCorrelationConfig,
  CorrelationConfigError,
  CORRELATION_DEFAULTS,
  type CorrelationConfig,
  type ElasticsearchConfig,
  type JaegerConfig,
  type EsAuth,
  type EsFields,
  type RoleLabels,
} from './config.js';
export { CircuitBreaker, BREAKER_STATE_VALUE, type BreakerState, type BreakerOptions, type BreakerPermit } from './breaker.js';
export { BackendError, type BackendResult } from './errors.js';
export { ElasticsearchLogs, ES_COMPAT_HEADERS, createElasticsearchClient, elasticsearchClientOptions, buildLogsSearch, parseLogsResponse, classifyEsError, logsKql, type LogsResult, type TimeWindow, type EsSearchClient } from './logs.js';
export { JaegerTraces, parseTracesResponse, summarizeTrace, readBodyCapped, percentile, exemplarTraceIds, type FetchFn, type TracesResult, type TraceSummary } from './traces.js';
export { resolveTarget, expandLabelsTemplate, ANNOTATION, type CorrelationAlert, type CorrelationTarget } from './target.js';
export { normalizeMessage, topPatterns } from './normalize.js';
export { kibanaDiscoverUrl, jaegerSearchUrl, jaegerTraceUrl, risonString, kqlQuery } from './links.js';
export { correlationMetrics, type CorrelationMetrics, type BackendName } from './metrics.js';
