/**
 * Prometheus remote-write receiver (1.0 and 2.0): the HTTP handler, the streaming decoders
 * that append straight into an `Appender`, and the encoders used by tests, benchmarks and
 * the remote-write sender.
 */
export {
  createRemoteWriteHandler,
  negotiateContentType,
  acceptableEncoding,
  PROTO_V1,
  PROTO_V2,
  WRITTEN_HEADERS,
} from './handler.js';
export type { RemoteWriteHandlerOptions, RemoteWriteVersion } from './handler.js';
export { ingestV1 } from './decode-v1.js';
export { ingestV2 } from './decode-v2.js';
export { readHistogram, validateHistogram } from './histogram.js';
export type { DecodedHistogram } from './histogram.js';
export {
  DEFAULT_LIMITS,
  IngestReport,
  SeriesCache,
  NO_LABELS,
  newIngestContext,
  flushPending,
} from './series.js';
export type { ReceiverLimits, InvalidReason, IngestContext, Fingerprint } from './series.js';
export { encodeWriteRequestV1, encodeWriteRequestV2 } from './encode.js';
export type { EncodeSeries, EncodeSample, EncodeExemplar, EncodeHistogram, EncodeMetadata, EncodeFamilyMetadata } from './encode.js';
export { snappyCompress, snappyDecompress, snappyDeclaredLength, SnappyError } from './snappy.js';
export { DecodeError } from './wire.js';
export { receiverMetrics } from './metrics.js';
export type { ReceiverMetrics } from './metrics.js';
