/** Public storage API: contracts, the in-memory head, the write-ahead log and the opener. */
export type {
  Appendable,
  Appender,
  HeadStats,
  MetadataReader,
  Querier,
  Queryable,
  RejectReason,
  Rejection,
  SelectParams,
  Series,
  SeriesRef,
  SeriesSamples,
  Storage,
} from './interface.js';
export { Head, HeadCommitError, type HeadOptions } from './head/index.js';
export * from './wal/index.js';
export { openStorage } from './open.js';
export type { OpenedStorage, OpenStorageOptions, ReplayableHead, TruncationResult } from './open.js';
