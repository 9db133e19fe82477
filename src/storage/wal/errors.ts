/** Typed errors of the write-ahead log. */
import { VigilError } from '../../model/errors.js';

/** A record or segment failed validation while decoding (bad CRC, bounds, unknown type...). */
export class WalCorruptionError extends VigilError {
  override name = 'WalCorruptionError';
  /**
   * @param message what is wrong
   * @param offset byte offset within the payload or segment where it was detected (-1 if unknown)
   */
  constructor(
    message: string,
    readonly offset = -1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `log()` was called after `close()`, or the WAL was closed while the call was queued. */
export class WalClosedError extends VigilError {
  override name = 'WalClosedError';
}

/**
 * Writing (or fsyncing) the WAL failed. The records of the failed call are not guaranteed to be
 * durable; `cause` carries the underlying I/O error.
 */
export class WalWriteError extends VigilError {
  override name = 'WalWriteError';
}
