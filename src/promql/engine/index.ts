/** The PromQL engine's public surface. */
export { Engine, cleanupVector, type EngineOptions, type QueryOptions, type QueryResult } from './engine.js';
export { formatValue, formatFloat, formatHistogram, type QueryResultJson } from './format.js';
export { Annotations, QueryError, type Value, type Vector, type Matrix, type Sample, type RangeSeries, type FPoint, type HPoint } from './values.js';
export { AT_MODIFIER_UNSAFE_FUNCTIONS } from './preprocess.js';
