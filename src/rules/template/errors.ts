/** Errors of the template engine, with messages formatted like Go's `text/template`. */

import { VigilError } from '../../model/errors.js';

/** Where a template error happened. */
export type TemplateErrorPhase = 'parse' | 'exec' | 'limit';

/**
 * A template failed to parse or execute. `message` follows Go's format:
 * parse errors `template: NAME:LINE: msg`, execution errors
 * `template: NAME:LINE:COL: executing "TMPL" at <NODE>: msg`.
 */
export class TemplateError extends VigilError {
  override name = 'TemplateError';
  constructor(
    message: string,
    /** Name of the top-level template. */
    readonly templateName: string,
    /** Phase that failed; `limit` is an execution bound (output size, steps, depth). */
    readonly phase: TemplateErrorPhase,
    /** 1-based line in the parsed text, when known. */
    readonly line?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** 1-based line and 0-based UTF-8 byte column of `pos` in `text` (Go's ErrorContext). */
export function lineCol(text: string, pos: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(pos, text.length)));
  let line = 1;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 10) line++;
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line, col: Buffer.byteLength(before.slice(lineStart), 'utf8') };
}
