/** Typed errors shared across the code base. All carry `cause` where there is one. */

/** Base class for vigil errors. */
export class VigilError extends Error {
  override name = 'VigilError';
}

/** Input that failed validation (maps to HTTP 400 / CLI error). */
export class ValidationError extends VigilError {
  override name = 'ValidationError';
}

/** A configured limit was exceeded. `status` is the HTTP status to answer with. */
export class LimitError extends VigilError {
  override name = 'LimitError';
  constructor(
    message: string,
    readonly limit: string,
    readonly status: 400 | 413 | 422 | 429 | 503 = 400,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Throws when reached: for exhaustive switches over discriminated unions. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
