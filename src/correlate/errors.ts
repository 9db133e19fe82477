/**
 * Outcome classification of backend calls. Stable strings: used as the `result` label of
 * `vigil_correlation_requests_total` and in log lines.
 */

/** Result of one backend call for one alert. */
export type BackendResult =
  | 'success'
  /** Backend answered but there was nothing to look at (e.g. index missing). */
  | 'not_found'
  | 'timeout'
  | 'error'
  /** Malformed, unexpected or oversized answer. */
  | 'bad_response'
  /** Refused by the open circuit breaker (or a half-open probe is already running). */
  | 'breaker_open'
  /** Nothing to query for this alert (no service/pod/namespace). */
  | 'skipped';

/** Why a backend call failed. `result` says how it is counted; `breaker` whether it trips the breaker. */
export class BackendError extends Error {
  override name = 'BackendError';
  constructor(
    message: string,
    readonly result: Exclude<BackendResult, 'success' | 'breaker_open' | 'skipped'>,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** Whether this failure counts toward opening the breaker (the backend itself misbehaves). */
  get breaker(): boolean {
    return this.result !== 'not_found';
  }
}

/** The error an abort signal carries when a per-call timeout fires. */
export class CallTimeoutError extends Error {
  override name = 'CallTimeoutError';
}

/** Shortens a backend-provided string for a log line (never trust its size). */
export function clip(s: string, max = 300): string {
  return s.length <= max ? s : s.slice(0, max) + '…';
}
