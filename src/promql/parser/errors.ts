/**
 * Parse errors with positions, formatted like Prometheus: `1:12: parse error: unexpected <op:*>`.
 */
import type { PosRange } from './ast.js';

/** Line (1-based) and column (1-based) of a 0-based offset in `input`. */
export function lineColumn(input: string, offset: number): { line: number; column: number } {
  const off = Math.max(0, Math.min(offset, input.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < off; i++) {
    if (input.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: off - lineStart + 1 };
}

/** A PromQL syntax or static type error. `message` includes the `line:col: parse error:` prefix. */
export class ParseError extends Error {
  override name = 'ParseError';
  /** 0-based offset where the error starts. */
  readonly position: number;
  /** End offset (exclusive) of the offending span. */
  readonly end: number;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** The bare message, without the position prefix. */
  readonly detail: string;

  constructor(input: string, pos: PosRange, detail: string, options?: ErrorOptions) {
    const { line, column } = lineColumn(input, pos.start);
    super(`${line}:${column}: parse error: ${detail}`, options);
    this.position = pos.start;
    this.end = pos.end;
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}
