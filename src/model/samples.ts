/**
 * Sample values. Timestamps are integer milliseconds since the epoch; values are float64.
 * The staleness marker is the special NaN with bit pattern 0x7ff0000000000002 and must be
 * kept bit-exact through storage (ordinary NaN is a different value).
 */

const buf = new DataView(new ArrayBuffer(8));

/** Upper 32 bits of the staleness-marker NaN. */
export const STALE_NAN_HI = 0x7ff00000;
/** Lower 32 bits of the staleness-marker NaN. */
export const STALE_NAN_LO = 0x00000002;

/** The staleness marker as a JS number. Note: JS may canonicalise NaNs when values pass through
 * arithmetic; storage keeps a flag bit instead of trusting the payload. */
export const STALE_NAN: number = (() => {
  buf.setUint32(0, STALE_NAN_HI);
  buf.setUint32(4, STALE_NAN_LO);
  return buf.getFloat64(0);
})();

/** True when `v` carries the staleness-marker bit pattern. */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false; // not NaN
  buf.setFloat64(0, v);
  return buf.getUint32(0) === STALE_NAN_HI && buf.getUint32(4) === STALE_NAN_LO;
}

/** Writes `v` bit-exact into a Float64Array slot (typed arrays keep NaN payloads on V8). */
export function float64Bits(v: number): [hi: number, lo: number] {
  buf.setFloat64(0, v);
  return [buf.getUint32(0), buf.getUint32(4)];
}

/** One float sample. */
export interface FloatSample {
  readonly t: number;
  readonly v: number;
}

/** An exemplar attached to a sample (remote-write 2.0, OpenMetrics). */
export interface Exemplar {
  readonly labels: import('./labels.js').Labels;
  readonly value: number;
  /** Milliseconds; 0 when unknown. */
  readonly t: number;
}

/** Metric type from metadata. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';

/** Metric metadata (HELP/TYPE/UNIT). */
export interface MetricMetadata {
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}
