/** Input bounds of the PromQL parser. */

/** Options for `parseExpr` / `parseMetricSelector`. */
export interface ParseOptions {
  /** Maximum query length in characters (default {@link DEFAULT_MAX_LENGTH}). */
  readonly maxLength?: number;
  /** Maximum nesting depth of the expression (default {@link DEFAULT_MAX_DEPTH}). */
  readonly maxDepth?: number;
}

/** Default bound on query length: 64 KiB. */
export const DEFAULT_MAX_LENGTH = 64 * 1024;
/** Default bound on nesting depth (parentheses, calls, operator chains). */
export const DEFAULT_MAX_DEPTH = 256;
