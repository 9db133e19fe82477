/** Public API of the write-ahead log. */
export type { WalRecord, WalWriter } from './interface.js';
export { Wal } from './wal.js';
export { DEFAULT_FSYNC_INTERVAL_MS, DEFAULT_SEGMENT_BYTES, validateOptions as validateWalOptions } from './options.js';
export type { FsyncPolicy, ReplayStats, WalOptions } from './options.js';
export type { CheckpointOptions, CheckpointStats } from './checkpoint.js';
export { WalClosedError, WalCorruptionError, WalWriteError } from './errors.js';
export { decodeRecord, encodeRecord, RECORD_TYPE, MAX_RECORD_BYTES } from './records.js';
export type { EncodedRecord } from './records.js';
